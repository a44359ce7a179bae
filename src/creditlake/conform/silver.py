"""Build silver from bronze, one delivery (period) at a time: typed rows in, rejects to quarantine, accounting."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from creditlake.catalogue import Catalogue, table_name
from creditlake.conform.rules import with_duplicates_marked, with_enterprise_link, with_rule_violations, with_typed_columns
from creditlake.ingest.bronze import LINEAGE
from creditlake.lake import read_table, replace_slice
from creditlake.settings import Settings

log = logging.getLogger(__name__)
ENTERPRISE_SPINE = ("samr", "registrations")


@dataclass
class SilverResult:
    delivery: str
    landed: int
    loaded: int
    quarantined: int
    by_rule: dict[str, int]
    examples: list[str]  # "file: row N: rule (column = value)" for the first quarantined rows


def split_checked(df, dataset, enterprises=None):
    """Pure: bronze rows -> rows with their first broken rule (null = good). Order: columns, duplicates, link."""
    return (
        df.transform(lambda x: with_rule_violations(x, dataset))
        .transform(lambda x: with_duplicates_marked(x, dataset))
        .transform(lambda x: with_enterprise_link(x, dataset, enterprises))
    )


def quarantine_rows(checked):
    """Pure: the rejected rows in the quarantine table's shape (file, row, rule, column, value)."""
    from pyspark.sql import functions as F

    return checked.where(F.col("_rule").isNotNull()).select(
        F.col("_delivery_id").alias("delivery_id"), F.col("_source").alias("source"),
        F.col("_dataset").alias("dataset"), F.col("_period").alias("period"), F.col("_file").alias("file"),
        F.col("_row_number").alias("row_number"), F.col("_rule").alias("rule"),
        F.col("_rule_column").alias("column"), F.col("_rule_value").alias("value"),
        F.col("_record_hash").alias("record_hash"), F.col("_ingested_at").alias("ingested_at"),
    )


def silver_rows(checked, dataset):
    """Pure: the good rows, typed, with their lineage."""
    from pyspark.sql import functions as F

    good = checked.where(F.col("_rule").isNull())
    return with_typed_columns(good, dataset).select(*[c.name for c in dataset.columns], *LINEAGE)


def build_silver(spark, settings: Settings, catalogue: Catalogue, periods: list[str],
                 sources: list[str] | None = None) -> list[SilverResult]:
    """Conform every bronze delivery of `periods`; the enterprise spine first, so the others can link to it."""
    from pyspark.sql import functions as F

    ordered = sorted(catalogue.datasets(), key=lambda sd: (sd[0].code, sd[1].code) != ENTERPRISE_SPINE)
    results = []
    for source, dataset in ordered:
        if sources and source.code not in sources:
            continue
        table = table_name(source.code, dataset.code)
        bronze = read_table(spark, "bronze", table, settings)
        if bronze is None:
            continue
        for period in periods:
            rows = bronze.where(F.col("_period") == period)
            spine = None
            if dataset.links_to_enterprise:
                spine = read_table(spark, "silver", table_name(*ENTERPRISE_SPINE), settings)
                spine = spine.where(F.col("_period") <= period) if spine is not None else None
            checked = split_checked(rows, dataset, spine).persist()
            counts = {r["_rule"]: r["n"] for r in checked.groupBy("_rule").agg(F.count("*").alias("n")).collect()}
            landed = sum(counts.values())
            if landed == 0:
                checked.unpersist()
                continue
            where = {"_period": period}
            replace_slice(silver_rows(checked, dataset), "silver", table, where, partition_by=["_period"],
                          settings=settings)
            replace_slice(quarantine_rows(checked), "ops", "quarantine",
                          {"source": source.code, "dataset": dataset.code, "period": period}, settings=settings)
            by_rule = {k: v for k, v in counts.items() if k is not None}
            examples = [f"{r.file}: row {r.row_number}: {r.rule} ({r.column} = {r.value})"
                        for r in quarantine_rows(checked).orderBy("row_number").take(3)] if by_rule else []
            results.append(SilverResult(f"{source.code}/{dataset.code}/{period}", landed,
                                        counts.get(None, 0), sum(by_rule.values()), by_rule, examples))
            checked.unpersist()
            log.info("silver %s/%s/%s: %d loaded, %d quarantined %s", source.code, dataset.code, period,
                     counts.get(None, 0), sum(by_rule.values()), by_rule)
    return results
