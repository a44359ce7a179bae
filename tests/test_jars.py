"""Jars come from the configured repository through Spark's Ivy resolver, and a warm cache starts offline."""

import os
import subprocess
import sys

from creditlake import jars


def test_ivy_settings_name_only_the_configured_repository(settings, tmp_path):
    custom = settings.model_copy(update={"maven_repository": "https://mirror.example.gov.cn/maven2/",
                                         "ivy_cache": tmp_path / "ivy"})
    xml = jars.ivy_settings_file(custom).read_text()
    assert 'root="https://mirror.example.gov.cn/maven2/"' in xml
    assert xml.count("<ibiblio") == 1
    conf = jars.spark_conf(custom)
    assert conf["spark.jars.packages"] == ",".join(jars.PACKAGES)
    assert conf["spark.jars.ivy"] == str(tmp_path / "ivy")


def test_warm_cache_starts_spark_offline(spark, settings, tmp_path):
    # The session fixture resolved the jars; a new JVM with an unreachable repository must still start.
    env = {**os.environ, "CREDITLAKE_MAVEN_REPOSITORY": "http://127.0.0.1:9/unreachable/",
           "CREDITLAKE_HOME": str(tmp_path / "home")}
    code = ("from creditlake.spark import get_spark; s = get_spark(); "
            f"s.range(3).write.format('delta').save('{tmp_path / 't'}'); "
            f"print(s.read.format('delta').load('{tmp_path / 't'}').selectExpr('sum(id)').first()[0])")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.splitlines()[0] == "3"


def test_a_resolution_is_remembered_and_later_starts_use_its_jars(spark, settings):
    """The session fixture's start resolved PACKAGES (or used a remembered resolution): the jar files are kept and
    the next start passes them as spark.jars, skipping Ivy."""
    files = jars.resolved_jars(settings)
    assert files and any("delta-spark" in f for f in files)
    assert all(f.startswith(str(settings.ivy_cache)) for f in files)
    assert jars.spark_conf(settings) == {"spark.jars": ",".join(files)}
