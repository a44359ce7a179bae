"""The slice end to end, run through Airflow (dag.test): accounting, quarantine, pseudonyms, gold, serving, report."""

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from conftest import SLICE


def test_dag_run_succeeded(pipeline_run):
    assert str(pipeline_run.state) in ("success", "DagRunState.SUCCESS")


def test_every_landed_record_is_loaded_or_quarantined(pipeline_run, spark, settings):
    from creditlake.quality.accounting import read_accounting

    rows = read_accounting(spark, settings)
    assert len(rows) == len(SLICE["only"]) * 3  # every dataset, every month
    for r in rows:
        assert r["landed"] == r["declared"]
        assert r["landed"] == r["loaded"] + r["quarantined"], r["delivery"]
        assert sum(r["quarantined_by_rule"].values()) == r["quarantined"]
    assert sum(r["quarantined"] for r in rows) > 0


def test_accounting_of_one_month_replaces_that_month_and_keeps_the_others(pipeline_run, spark, settings):
    """A monthly run recomputes only its months' accounting (from silver's loaded rows of those months)."""
    from creditlake.quality.accounting import build_accounting, read_accounting

    def by_delivery(rows):
        return {r["delivery"]: (r["declared"], r["landed"], r["loaded"], r["quarantined"],
                                dict(r["quarantined_by_rule"])) for r in rows}

    from creditlake.lake import table_version

    before = by_delivery(read_accounting(spark, settings))
    months = sorted({d.rsplit("/", 1)[1] for d in before})
    assert len(months) == 3
    version = table_version("ops", "accounting", settings)
    frame = build_accounting(spark, settings, periods=[months[1]], force=True)
    assert table_version("ops", "accounting", settings) == version + 1
    assert {r["period"] for r in frame.select("period").distinct().collect()} == {months[1]}
    assert by_delivery(read_accounting(spark, settings)) == before
    # Again, with nothing it counts changed since: nothing recomputed, nothing written, the same rows.
    kept = build_accounting(spark, settings, periods=[months[1]])
    assert table_version("ops", "accounting", settings) == version + 1
    assert by_delivery(r.asDict(recursive=True) for r in kept.collect()) == {
        d: v for d, v in before.items() if d.endswith(months[1])}


def _silver_counts(spark, settings) -> dict:
    from creditlake.catalogue import default_catalogue, table_name
    from creditlake.lake import read_table

    counts = {}
    for source, dataset in default_catalogue().datasets():
        silver = read_table(spark, "silver", table_name(source.code, dataset.code), settings)
        if silver is not None:
            counts |= {(source.code, dataset.code, r["_period"]): r["count"]
                       for r in silver.groupBy("_period").count().collect()}
    return counts


def test_loaded_rows_are_what_silver_holds_and_a_lake_without_them_is_counted_once(pipeline_run, spark, settings):
    """The accounting reads ops.loaded_rows, written by silver's own aggregate: it must equal silver's rows. A lake
    built before that table existed gets it from silver itself, at the next silver run, for every month."""
    import shutil

    from creditlake.conform.silver import build_silver
    from creditlake.catalogue import default_catalogue

    def loaded():  # a month whose rows were all quarantined holds no silver row: silver's count has no 0 for it
        return {(r.source, r.dataset, r.period): r.loaded for r in spark.table("ops.loaded_rows").collect()
                if r.loaded}

    counted = _silver_counts(spark, settings)
    assert loaded() == counted and counted
    # A lake without the table: one dataset's month rebuilt; every other dataset and month counted from silver.
    folder = settings.lake / "ops" / "loaded_rows"
    backup = settings.spark_work / "loaded_rows-backup"
    shutil.move(folder, backup)  # behind the back of the service, which holds the table's Delta log
    try:
        (settings.lake / "ops" / "_built_from" / "silver.power__consumption.json").unlink(missing_ok=True)
        month = sorted(p for _, _, p in counted)[0]
        build_silver(spark, settings, default_catalogue(), [month], datasets=["power/consumption"])
        assert loaded() == counted
    finally:
        if not folder.is_dir():
            shutil.move(backup, folder)
        shutil.rmtree(backup, ignore_errors=True)


def test_planted_faults_are_quarantined_with_their_rule(pipeline_run, spark, landing):
    truth = json.loads((landing[0].parent / "landing.truth" / "truth.json").read_text())
    assert truth["faults"], "the slice plants faults"
    q = {(r.file, r.row_number): r.rule for r in spark.table("ops.quarantine").select("file", "row_number", "rule").collect()}
    for fault in truth["faults"]:
        assert q.get((fault["file"], fault["row"])) == fault["rule"], fault


def test_clear_personal_values_appear_nowhere(pipeline_run, spark, settings, landing):
    truth = json.loads((landing[0].parent / "landing.truth" / "truth.json").read_text())
    secrets = [v.encode() for v in truth["clear_personal_values"]]
    assert len(secrets) >= 40  # ID numbers and phones of 20 legal representatives, and officers' numbers
    # Raw bytes of every file the lake, serving store, logs and Airflow wrote (Parquet checked below, decoded).
    for root in (settings.lake, settings.home / "serving", settings.logs, settings.airflow, settings.home / "quarantine"):
        for path in Path(root).rglob("*"):
            if path.is_file() and path.suffix != ".parquet":
                data = path.read_bytes()
                assert not any(s in data for s in secrets), path
    # Decoded content of every Delta table.
    from pyspark.sql import functions as F

    for layer in ("bronze", "silver", "gold", "ops"):
        for t in spark.sql(f"SHOW TABLES IN {layer}").collect():
            df = spark.table(f"{layer}.{t.tableName}")
            text = df.select(F.concat_ws("|", *[F.col(c).cast("string") for c in df.columns]).alias("t"))
            hits = text.where(F.col("t").rlike("|".join(v.decode() for v in secrets))).count()
            assert hits == 0, f"{layer}.{t.tableName}"


def _expected_power_by_district(landing: Path, quarantined: set) -> dict:
    """Independent of Spark and dbt: sum kwh per (month, district) straight from the landing CSVs."""
    district = {}
    for f in sorted((landing / "samr" / "registrations").rglob("*.csv")):
        rel = f"samr/registrations/{f.parent.name}/{f.name}"
        with f.open(encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=1):
                if (rel, i) not in quarantined:
                    district[row["uscc"]] = row["district_code"]
    totals = defaultdict(float)
    for f in sorted((landing / "power" / "consumption").rglob("*.csv")):
        rel = f"power/consumption/{f.parent.name}/{f.name}"
        with f.open(encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=1):
                if (rel, i) not in quarantined:
                    totals[(row["period"], district[row["uscc"]])] += float(row["kwh"])
    return {k: round(v, 1) for k, v in totals.items() if round(v, 1)}  # the mart has zero rows too: compare the non-zero


def test_gold_mart_matches_independent_computation(pipeline_run, spark, landing):
    quarantined = {(r.file, r.row_number) for r in spark.table("ops.quarantine").collect()}
    expected = _expected_power_by_district(landing[0], quarantined)
    got = {(r.month, r.district_code): r.power_kwh
           for r in spark.table("gold.mart_district_power_monthly").collect() if r.power_kwh}
    assert got == pytest.approx(expected)
    assert spark.table("gold.mart_district_power_monthly").count() == 10 * 3


def test_serving_store_holds_the_mart(pipeline_run, settings):
    with duckdb.connect(str(settings.serving_file), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT district_name) FROM mart_district_power_monthly").fetchone()
    assert rows == (30, 10)


def test_report_pdf_shows_the_served_total(pipeline_run, settings):
    from pypdf import PdfReader

    pdf = settings.reports / f"creditlake-report-{SLICE['end']}.pdf"
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    with duckdb.connect(str(settings.serving_file), read_only=True) as con:
        total = con.execute("SELECT sum(power_kwh) FROM mart_district_power_monthly WHERE month = ?",
                            [SLICE["end"]]).fetchone()[0]
    assert "贵阳市企业信用监管月度报告" in text
    assert f"{round(total):,}" in text


def _table_checksum(spark, name: str) -> str:
    rows = sorted(str(tuple(r)) for r in spark.table(name).collect())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_rerun_is_idempotent(pipeline_run, spark, settings, landing):
    """Ingesting the same landing zone again skips every delivery and leaves bronze, silver and quarantine as they
    were (gold's rerun is the next test's)."""
    from creditlake.pipeline import stage_ingest, stage_silver
    from creditlake.periods import month_range

    tables = ["bronze.samr__registrations", "silver.samr__registrations", "silver.power__consumption",
              "silver.samr__complaints_12315", "ops.quarantine"]
    before = {t: _table_checksum(spark, t) for t in tables}
    periods = month_range(SLICE["start"], SLICE["end"])
    assert {r["status"] for r in stage_ingest(landing[0], periods, settings=settings)} == {"skipped"}
    stage_silver(periods, settings=settings)
    for t in tables:
        spark.catalog.refreshTable(t)
    assert {t: _table_checksum(spark, t) for t in tables} == before
