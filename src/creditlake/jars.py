"""The JVM packages the lake needs, in one place, resolved by Spark's own Ivy resolver from a configurable Maven repository."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from creditlake.settings import Settings

# Delta Lake for Spark 4.1 / Scala 2.13; must match the delta-spark wheel pinned in pyproject.toml.
PACKAGES: tuple[str, ...] = ("io.delta:delta-spark_4.1_2.13:4.4.0",)


def ivy_settings_file(settings: Settings) -> Path:
    """Write (if changed) an ivysettings.xml whose only resolver is the configured Maven repository.

    Spark's default chain also tries ~/.m2 and Maven Central; a single resolver keeps government
    networks, which mirror Maven internally, on their mirror, and makes a warm cache enough offline.
    """
    cache = settings.ivy_cache
    cache.mkdir(parents=True, exist_ok=True)
    xml = f"""<ivysettings>
  <settings defaultResolver="creditlake"/>
  <caches defaultCacheDir={quoteattr(str(cache / "cache"))} useOrigin="false"/>
  <resolvers>
    <ibiblio name="creditlake" m2compatible="true" root={quoteattr(settings.maven_repository)}/>
  </resolvers>
</ivysettings>
"""
    path = cache / "ivysettings.xml"
    if not path.exists() or path.read_text() != xml:
        path.write_text(xml)
    return path


def resolution_file(settings: Settings) -> Path:
    """Where the jars Spark's resolver found for PACKAGES from the configured repository are remembered."""
    import hashlib

    key = hashlib.sha256("\n".join([*PACKAGES, settings.maven_repository]).encode()).hexdigest()[:16]
    return settings.ivy_cache / f"resolved-{key}.txt"


def resolved_jars(settings: Settings) -> list[str] | None:
    """The jar files of an earlier resolution, if every one is still in the cache; else None."""
    path = resolution_file(settings)
    if not path.is_file():
        return None
    files = [line for line in path.read_text().splitlines() if line]
    return files if files and all(Path(f).is_file() for f in files) else None


def spark_conf(settings: Settings) -> dict[str, str]:
    """The Spark options that make Spark resolve PACKAGES through Ivy into settings.ivy_cache, or, once a
    resolution is remembered (remember_resolution), the resolved jar files themselves: a JVM start then skips
    Ivy (seconds per start, and every Airflow task and CLI command starts one)."""
    files = resolved_jars(settings)
    if files:
        return {"spark.jars": ",".join(files)}
    return {
        "spark.jars.packages": ",".join(PACKAGES),
        "spark.jars.ivy": str(settings.ivy_cache),
        "spark.jars.ivySettings": str(ivy_settings_file(settings)),
    }


def remember_resolution(spark, settings: Settings) -> None:
    """After a start (in-process or the service) that resolved PACKAGES, keep the jar files Spark's resolver put on
    the classpath."""
    import os

    if not spark.conf.get("spark.jars.packages", None) or resolved_jars(settings):
        return
    files = [j.removeprefix("file://") for j in spark.conf.get("spark.jars", "").split(",") if j]
    if not files or not all(Path(f).is_file() and f.startswith(str(settings.ivy_cache)) for f in files):
        return
    path = resolution_file(settings)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(files) + "\n")
    os.replace(tmp, path)
