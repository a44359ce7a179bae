"""Build silver from bronze, one delivery (period) at a time: typed rows in, rejects to quarantine, accounting."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from creditlake.catalogue import Catalogue, table_name
from creditlake.conform.rules import (
    RESENDABLE, with_duplicates_marked, with_enterprise_link, with_resent_marked, with_rule_violations,
    with_typed_columns,
)
from creditlake.ingest.bronze import LINEAGE
from creditlake.lake import (
    code_fingerprint, is_built_from, read_table, record_built_from, replace_slice, table_version,
)
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


def split_checked(df, dataset, enterprises=None, earlier=None):
    """Pure: bronze rows -> rows with their first broken rule (null = good).

    Order: columns, duplicates within the delivery, resent from an earlier month, link to a known enterprise.
    """
    return (
        df.transform(lambda x: with_rule_violations(x, dataset))
        .transform(lambda x: with_duplicates_marked(x, dataset))
        .transform(lambda x: with_resent_marked(x, dataset, earlier))
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
    return with_typed_columns(good, dataset).select(*[c.name for c in dataset.lake_columns()], *LINEAGE)


def silver_inputs(dataset, table: str, settings: Settings) -> dict:
    """What a dataset's silver months are built from: its bronze and the enterprise spine (versions), its catalogue
    entry and the rules' code. Unchanged inputs, unchanged silver: a rerun with nothing new skips the dataset."""
    import hashlib
    import sys

    from creditlake.conform import rules

    links = dataset.links_to_enterprise and table != table_name(*ENTERPRISE_SPINE)
    return {
        "bronze": table_version("bronze", table, settings),
        "spine": table_version("silver", table_name(*ENTERPRISE_SPINE), settings) if links else None,
        "catalogue": hashlib.sha256(dataset.model_dump_json().encode()).hexdigest()[:16],
        "code": code_fingerprint(rules, sys.modules[__name__]),
    }


def delivery_summary(checked, n: int = 3):
    """Pure: one aggregate of the checked rows per (period, rule): how many, and for a broken rule its first `n`
    rows in file order as one-line messages, "file: row N: rule (column = value)", the value cut to VALUE_LIMIT
    characters (a pseudonym for a personal column, null for a secret one)."""
    from pyspark.sql import functions as F

    from creditlake.ingest.quarantine import shortened

    line = F.format_string("%s: row %d: %s (%s = %s)", "_file", "_row_number", "_rule", "_rule_column",
                           shortened(F.col("_rule_value")))
    first = F.collect_list(F.when(F.col("_rule").isNotNull(), F.struct("_row_number", line.alias("line"))))
    return checked.groupBy("_period", "_rule").agg(F.count("*").alias("n"),
                                                   F.slice(F.array_sort(first), 1, n).alias("first"))


LOADED = "loaded_rows"  # ops.loaded_rows: rows each silver month of each dataset holds, written with it
LOADED_SCHEMA = "source string, dataset string, period string, loaded long"
QUARANTINE_SCHEMA = ("delivery_id string, source string, dataset string, period string, file string, "
                     "row_number bigint, rule string, column string, value string, record_hash string, "
                     "ingested_at timestamp")


def build_silver(spark, settings: Settings, catalogue: Catalogue, periods: list[str],
                 sources: list[str] | None = None, datasets: list[str] | None = None,
                 on_dataset=None) -> list[SilverResult]:
    """Conform the bronze months `periods` of every dataset; the enterprise spine first, so the others link to it.

    One pass per dataset: its rows checked once (cached), counted in one aggregate, its silver months replaced in
    one commit and its quarantined rows staged as Parquet; then one commit of `ops.quarantine` and one of
    `ops.loaded_rows` (the rows of each month written, which the accounting reads) for the whole run.
    Datasets after the spine are conformed `settings.dataset_threads` at a time. A rerun replaces the same slices,
    so it changes nothing; a run killed before the quarantine commit has recorded no dataset as built, so the next
    run builds them again. A dataset whose inputs (silver_inputs) are those it was last built from, for these
    months, is skipped.
    """
    import shutil
    import uuid

    from creditlake.spark import for_each_concurrently

    wanted = [(source, dataset) for source, dataset in catalogue.datasets()
              if not (sources and source.code not in sources)
              and not (datasets and f"{source.code}/{dataset.code}" not in datasets)]
    spine = [sd for sd in wanted if (sd[0].code, sd[1].code) == ENTERPRISE_SPINE]
    others = [sd for sd in wanted if (sd[0].code, sd[1].code) != ENTERPRISE_SPINE]
    staging = settings.spark_work / f"quarantine-{uuid.uuid4().hex}"

    known = None  # the registered enterprises (distinct USCCs), read once after the spine and cached

    def one(source_dataset):
        return _conform_dataset(spark, settings, *source_dataset, periods, staging, on_dataset, known)

    try:
        done = [one(sd) for sd in spine]
        registered = read_table(spark, "silver", table_name(*ENTERPRISE_SPINE), settings)
        if registered is not None:
            known = registered.select("uscc").distinct().persist()  # computed when a dataset first links to it
        done += for_each_concurrently(one, others, settings.dataset_threads)
        results = [r for rs, _ in done for r in rs]
        built = [b for _, b in done if b is not None]
        if built:
            staged = [str(p) for p in sorted(staging.iterdir())] if staging.is_dir() else []
            quarantine = (spark.read.schema(QUARANTINE_SCHEMA).parquet(*staged) if staged
                          else spark.createDataFrame([], QUARANTINE_SCHEMA))
            slices = [{"source": s, "dataset": d, "period": months} for s, d, _, months, *_ in built]
            replace_slice(quarantine, "ops", "quarantine", slices, settings=settings)
            _record_loaded(spark, settings, catalogue, built, slices)
            for _, _, table, _, inputs, _ in built:
                record_built_from(f"silver.{table}", {**inputs, "periods": sorted(periods)}, settings)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if known is not None:
            known.unpersist()
    return results


def _conform_dataset(spark, settings: Settings, source, dataset, periods: list[str], staging, on_dataset,
                     known=None):
    """One dataset's months: (their SilverResults, what to record as built once ops.quarantine has the rows, or
    None when nothing was written). `known`: the registered enterprises, for a dataset that links to them (the
    spine itself, built first, links to its own silver as it was)."""
    from pyspark.sql import functions as F

    name = f"{source.code}/{dataset.code}"
    table = table_name(source.code, dataset.code)
    inputs = silver_inputs(dataset, table, settings)
    if inputs["bronze"] is None or is_built_from(f"silver.{table}", inputs, periods, settings):
        return [], None  # nothing delivered, or nothing new since these months were built: nothing to do
    bronze = read_table(spark, "bronze", table, settings)
    if on_dataset:
        on_dataset(name)
    spine = None
    if dataset.links_to_enterprise:
        spine = known if known is not None else read_table(spark, "silver", table_name(*ENTERPRISE_SPINE), settings)
    # Only event datasets are checked for resends, against their earlier months: no other dataset reads them.
    current = read_table(spark, "silver", table, settings) if dataset.cadence in RESENDABLE else None
    earlier = current.where(~F.col("_period").isin(periods)) if current is not None else None
    checked = split_checked(bronze.where(F.col("_period").isin(periods)), dataset, spine, earlier).persist()
    counts: dict[str, dict[str | None, int]] = {}
    firsts: dict[str, list] = {}
    for r in delivery_summary(checked).collect():
        counts.setdefault(r["_period"], {})[r["_rule"]] = r["n"]
        firsts.setdefault(r["_period"], []).extend(tuple(x) for x in r["first"])
    done, built = sorted(counts), None
    if done:
        # One file per month: the checked rows come out of a shuffle whose every partition holds every month, and
        # written as they are each month got a file per partition (9,059 files of ~32 KB at 10k x 24 months),
        # which every reader of silver (quality, gold, the profile's records) then opens one by one.
        replace_slice(silver_rows(checked, dataset).repartition("_period"), "silver", table, {"_period": done},
                      partition_by=["_period"], settings=settings)
        if any(k is not None for c in counts.values() for k in c):
            quarantine_rows(checked).write.parquet(str(staging / table))
        built = (source.code, dataset.code, table, done, inputs, {p: counts[p].get(None, 0) for p in done})
    else:
        record_built_from(f"silver.{table}", {**inputs, "periods": sorted(periods)}, settings)
    checked.unpersist()
    results = []
    for period in done:
        c = counts[period]
        by_rule = {k: v for k, v in c.items() if k is not None}
        examples = [line for _, line in sorted(firsts[period])[:3]]
        results.append(SilverResult(f"{name}/{period}", sum(c.values()), c.get(None, 0),
                                    sum(by_rule.values()), by_rule, examples))
        log.info("silver %s/%s: %d loaded, %d quarantined %s", name, period, c.get(None, 0),
                 sum(by_rule.values()), by_rule)
    return results, built


def _record_loaded(spark, settings: Settings, catalogue: Catalogue, built: list[tuple], slices: list[dict]) -> None:
    """One commit of `ops.loaded_rows` for the run: the loaded rows of each (dataset, month) just built, from the
    pass's own aggregate. A lake built before the table existed gets its other silver months counted once, from
    silver itself, in the same commit."""
    from pyspark.sql import functions as F

    rows = [(s, d, p, n) for s, d, _, _, _, loaded in built for p, n in loaded.items()]
    slices = list(slices)  # the run's (dataset, months), as ops.quarantine got them
    frame = spark.createDataFrame(rows, LOADED_SCHEMA)
    if table_version("ops", LOADED, settings) is None:
        fresh = {table: set(months) for _, _, table, months, *_ in built}
        for source, dataset in catalogue.datasets():
            table = table_name(source.code, dataset.code)
            folder = settings.lake / "silver" / table
            earlier = sorted({p.name.removeprefix("_period=") for p in folder.glob("_period=*")}
                             - fresh.get(table, set())) if folder.is_dir() else []
            current = read_table(spark, "silver", table, settings) if earlier else None
            if current is None:
                continue
            frame = frame.unionByName(current.where(F.col("_period").isin(earlier)).groupBy(
                F.lit(source.code).alias("source"), F.lit(dataset.code).alias("dataset"),
                F.col("_period").alias("period")).agg(F.count("*").alias("loaded")))
            slices.append({"source": source.code, "dataset": dataset.code, "period": earlier})
    replace_slice(frame, "ops", LOADED, slices, settings=settings)
