"""The conformed enterprise: one row per version of its registration (type-2 history), keyed on the credit code."""

from __future__ import annotations

from creditlake.catalogue import table_name
from creditlake.lake import read_table
from creditlake.settings import Settings
from creditlake.spark import table_path

HISTORY = "enterprises_history"
# The registered attributes a version is made of; a new version starts when any of them changes.
ATTRIBUTES = ["name", "district_code", "industry_code", "registered_capital", "address", "legal_rep_name"]


def with_registration_history(events):
    """Pure: registration events -> versions with valid_from, valid_to (exclusive, null = open) and is_current.

    Events are ordered by date, then delivery period and row; consecutive events with the same attributes
    fold into one version; a 注销 (deregistration) event closes the last version and marks it deregistered.
    """
    from pyspark.sql import Window, functions as F

    order = Window.partitionBy("uscc").orderBy("event_date", "_period", "_row_number")
    attrs = F.sha2(F.to_json(F.struct(*ATTRIBUTES)), 256)
    ev = (
        events.select("uscc", "event_type", "event_date", "established_date", *ATTRIBUTES, "_period", "_row_number")
        .withColumn("_attrs", attrs)
        .withColumn("_prev_attrs", F.lag("_attrs").over(order))
        .withColumn("_is_dereg", F.col("event_type") == "注销")
    )
    deregistered = ev.where("_is_dereg").groupBy("uscc").agg(F.min("event_date").alias("deregistered_on"))
    starts = ev.where(~F.col("_is_dereg") & (F.col("_prev_attrs").isNull() | (F.col("_prev_attrs") != F.col("_attrs"))))
    versions = Window.partitionBy("uscc").orderBy("event_date", "_period", "_row_number")
    return (
        starts.join(deregistered, "uscc", "left")
        .withColumn("version", F.row_number().over(versions))
        .withColumn("valid_from", F.col("event_date"))
        .withColumn("valid_to", F.coalesce(F.lead("event_date").over(versions), F.col("deregistered_on")))
        .withColumn("is_current", F.lead("event_date").over(versions).isNull())
        .withColumn("is_deregistered", F.col("is_current") & F.col("deregistered_on").isNotNull())
        .select("uscc", "version", *ATTRIBUTES, "established_date", "valid_from", "valid_to", "is_current",
                "is_deregistered", "deregistered_on")
    )


def build_enterprise_history(spark, settings: Settings) -> None:
    """Rebuild silver.enterprises_history from all registration events (small: one row per version)."""
    import sys

    from creditlake.lake import code_fingerprint, is_built_from, record_built_from, table_version

    def inputs() -> dict:  # skipped when neither the registrations nor the history changed since
        return {"registrations": table_version("silver", table_name("samr", "registrations"), settings),
                "history": table_version("silver", HISTORY, settings), "code": code_fingerprint(sys.modules[__name__])}

    events = read_table(spark, "silver", table_name("samr", "registrations"), settings)
    if events is None or is_built_from(f"silver.{HISTORY}", inputs(), settings=settings):
        return
    path = table_path("silver", HISTORY, settings)
    with_registration_history(events).write.format("delta").mode("overwrite").option("overwriteSchema", "true") \
        .save(str(path))
    spark.sql(f"CREATE TABLE IF NOT EXISTS silver.{HISTORY} USING delta LOCATION '{path}'")
    record_built_from(f"silver.{HISTORY}", inputs(), settings)
