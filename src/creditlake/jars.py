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


def spark_conf(settings: Settings) -> dict[str, str]:
    """The Spark options that make Spark resolve PACKAGES through Ivy into settings.ivy_cache."""
    return {
        "spark.jars.packages": ",".join(PACKAGES),
        "spark.jars.ivy": str(settings.ivy_cache),
        "spark.jars.ivySettings": str(ivy_settings_file(settings)),
    }
