"""Accounting: for every delivery, declared, landed, loaded and quarantined rows (landed = loaded + quarantined)."""

from __future__ import annotations

import sys
from creditlake.conform.silver import LOADED, LOADED_SCHEMA
from creditlake.lake import (
    code_fingerprint, is_built_from, read_table, record_built_from, replace_slice, table_version,
)
from creditlake.settings import Settings
from creditlake.spark import table_path

ACCOUNTING = "accounting"


def accounting_frame(deliveries, silver_counts, quarantine):
    """Pure: deliveries (ops.deliveries), loaded rows per delivery and quarantine rows -> one row per delivery."""
    from pyspark.sql import functions as F

    keys = ["source", "dataset", "period"]
    q = quarantine.groupBy(*keys).agg(
        F.count("*").alias("q_rows"),
        F.sum(F.when(F.col("rule") == "duplicate", 1).otherwise(0)).alias("duplicates"),
    )
    by_rule = (
        quarantine.groupBy(*keys, "rule").agg(F.count("*").alias("n"))
        .groupBy(*keys).agg(F.map_from_entries(F.collect_list(F.struct("rule", "n"))).alias("quarantined_by_rule"))
    )
    rejected = F.col("status") == "rejected"
    return (
        deliveries.join(silver_counts, keys, "left").join(q, keys, "left").join(by_rule, keys, "left")
        .select(
            F.concat_ws("/", *keys).alias("delivery"), *keys, "delivery_id", "file", "status", "reason",
            F.col("declared"), F.col("landed"),
            F.when(rejected, F.lit(0)).otherwise(F.coalesce("loaded", F.lit(0))).cast("long").alias("loaded"),
            F.when(rejected, F.col("landed")).otherwise(F.coalesce("q_rows", F.lit(0))).cast("long").alias("quarantined"),
            F.when(rejected, F.lit(0)).otherwise(F.coalesce("duplicates", F.lit(0))).cast("long").alias("duplicates"),
            F.when(rejected, F.create_map(F.lit("delivery_rejected"), F.col("landed")))
            .otherwise(F.coalesce("quarantined_by_rule", F.create_map().cast("map<string,bigint>")))
            .alias("quarantined_by_rule"),
            F.col("recorded_at"),
        )
    )


def build_accounting(spark, settings: Settings, periods: list[str] | None = None, force: bool = False):
    """Recompute ops.accounting from the delivery log, silver and quarantine (one row per delivery); return the
    accounting rows of the months (None before any delivery is logged).

    `periods`: only these months' rows are recomputed and replaced (silver is partitioned by month, so a monthly
    run counts one month, not the whole lake); the other months' rows are kept as they are. None: every month.
    Nothing is recomputed when none of the tables it counts changed since these months were (unless `force`)."""
    from pyspark.sql import functions as F

    def inputs() -> dict:  # the delivery log, quarantine, silver's loaded rows and the accounting as they are now
        return {"deliveries": table_version("ops", "deliveries", settings),
                "quarantine": table_version("ops", "quarantine", settings),
                "loaded": table_version("ops", LOADED, settings),
                "accounting": table_version("ops", ACCOUNTING, settings),
                "code": code_fingerprint(sys.modules[__name__])}

    deliveries = read_table(spark, "ops", "deliveries", settings)
    if deliveries is None:
        return None
    if not force and is_built_from(ACCOUNTING, inputs(), periods or ["*"], settings):
        kept = read_table(spark, "ops", ACCOUNTING, settings)
        return kept.where(F.col("period").isin(periods)) if periods else kept

    def scoped(df, column: str = "period"):
        return df.where(F.col(column).isin(periods)) if periods else df

    # Silver's loaded rows per month, as silver counted them when it wrote the month (one small table, not a
    # read of every silver table).
    silver_counts = read_table(spark, "ops", LOADED, settings)
    if silver_counts is None:
        silver_counts = spark.createDataFrame([], LOADED_SCHEMA)
    quarantine = read_table(spark, "ops", "quarantine", settings)
    if quarantine is None:
        quarantine = spark.createDataFrame([], "source string, dataset string, period string, rule string")
    frame = accounting_frame(scoped(deliveries), scoped(silver_counts), scoped(quarantine))
    path = table_path("ops", ACCOUNTING, settings)
    if periods:
        replace_slice(frame, "ops", ACCOUNTING, {"period": list(periods)}, settings=settings)
    else:
        frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(str(path))
        spark.sql(f"CREATE TABLE IF NOT EXISTS ops.{ACCOUNTING} USING delta LOCATION '{path}'")
    record_built_from(ACCOUNTING, {**inputs(), "periods": sorted(periods or ["*"])}, settings)
    return frame


def read_accounting(spark, settings: Settings, period: str | None = None) -> list[dict]:
    df = read_table(spark, "ops", ACCOUNTING, settings)
    if df is None:
        return []
    if period:
        df = df.where(df.period == period)
    rows = df.orderBy("period", "source", "dataset").collect()
    return [r.asDict(recursive=True) for r in rows]
