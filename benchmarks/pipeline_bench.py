"""The whole pipeline, stage by stage, at several sizes; DuckDB on the same silver data as the reference.

    uv run python benchmarks/pipeline_bench.py                          # 10k, 100k, 1M enterprises x 24 months
    uv run python benchmarks/pipeline_bench.py --sizes 1000 10000 --months 24 --repeat 3 --project 100000 1000000

For each size: generate a landing zone of every catalogued dataset (`--gold-inputs-only`: the 28 the gold models
read, pipeline.GOLD_INPUTS), then `--repeat`
times, each in a fresh CREDITLAKE_HOME and a fresh process with one SparkSession (the settings' master, local[2] by
default), time every stage of `creditlake run`: bronze (ingest), silver, quality (Great Expectations), gold (dbt
build), publish, report. After the timed stages the same process re-runs the two marts the DuckDB reference
computes (`dbt run --select mart_enterprise_activity_monthly mart_region_indicators_monthly`): that time is the
Spark side of the Spark/DuckDB ratio. DuckDB computes the same two marts (the same SQL, in DuckDB's dialect) over
the same silver Delta tables, read through the `deltalake` package's file list, and its results are compared with
Spark's (rows and sums).

Also the **DuckDB floor** on the same landing files (`duckdb_floor.py`: read and written as Parquet; and the same
with the catalogue's checks), with the pipeline's cost per row as a ratio to the floor's. Also: peak driver memory
(the JVM's VmHWM) and Python peak RSS per run, files and bytes written per layer, the log-log slope of time against
size per stage (and a projection to `--project` sizes, labelled as one), and an incremental month: the last month
added to a lake that holds the months before it (bronze + silver + quality + gold for one month), against the full
recompute of every month.

Figures are medians of `--repeat` runs. Progress goes to stderr; the tables to stdout; `--json` saves everything.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from duckdb_floor import floor

STAGES = ("generate", "bronze", "silver", "quality", "gold", "publish", "report")
SPARK_STAGES = STAGES[1:]
INCREMENTAL_STAGES = ("bronze", "silver", "quality", "gold")
REFERENCE_MARTS = ("mart_enterprise_activity_monthly", "mart_region_indicators_monthly")
LAYERS = ("bronze", "silver", "gold", "ops")

# One Spark run in its own process: one SparkSession, every stage timed, memory read after each stage.
SPARK_RUN = r"""
import json, os, resource, sys, time
from pathlib import Path
from creditlake import pipeline
from creditlake.dbt import run_dbt
from creditlake.periods import month_range
from creditlake.settings import get_settings
from creditlake.spark import get_spark

landing, start, end, mode, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
marts = sys.argv[6].split(",")
settings = get_settings()
periods = month_range(start, end)

def jvm_peak_mb(spark):
    # VmHWM: the driver JVM's peak resident set (heap, off-heap, code), from the kernel.
    pid = spark.sparkContext._gateway.proc.pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None

def jobs_so_far(spark):
    # Spark numbers jobs from 0 in order: the highest id seen is the count of jobs (actions) run so far.
    tracker = spark.sparkContext.statusTracker()
    ids = list(tracker.getJobIdsForGroup(None)) + list(tracker.getActiveJobsIds())
    return max(ids) + 1 if ids else 0

def note(msg):
    print(msg, file=sys.stderr, flush=True)

figures = {"stages": {}, "rows": {}}
t = time.monotonic()
spark = get_spark(settings)
figures["session_s"] = time.monotonic() - t

def timed(name, fn):
    jobs, t = jobs_so_far(spark), time.monotonic()
    result = fn()
    figures["stages"][name] = time.monotonic() - t
    figures.setdefault("jobs", {})[name] = jobs_so_far(spark) - jobs
    figures.setdefault("jvm_mb", {})[name] = jvm_peak_mb(spark)
    figures.setdefault("python_mb", {})[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    note(f"      {name:<8} {figures['stages'][name]:7.1f} s {figures['jobs'][name]:6} Spark jobs")
    out.write_text(json.dumps(figures))  # what a run that fails later still leaves
    return result

if mode == "incremental":
    # The lake as it was after the month before: every stage but the last month's, untimed.
    before, last = periods[:-1], periods[-1:]
    note(f"      (setting up a {len(before)}-month lake)")
    pipeline.stage_ingest(landing, before, settings=settings)
    pipeline.stage_silver(before, settings=settings)
    pipeline.stage_quality(before, settings=settings)
    pipeline.stage_gold(settings)
    periods = last

bronze = timed("bronze", lambda: pipeline.stage_ingest(landing, periods, settings=settings))
silver = timed("silver", lambda: pipeline.stage_silver(periods, settings=settings))
timed("quality", lambda: pipeline.stage_quality(periods, settings=settings))
# As the DAG does: the incremental gold models recompute the run's first month and later ones, keep the rest.
timed("gold", lambda: pipeline.stage_gold(settings, recompute_from=periods[0]))
figures["rows"]["bronze"] = sum(r["landed"] for r in bronze if r["status"] == "loaded")
figures["rows"]["silver"] = sum(r["loaded"] for r in silver)
if mode == "full":
    counts = timed("publish", lambda: pipeline.stage_publish(settings))
    figures["rows"]["publish"] = sum(counts.values())
    timed("report", lambda: pipeline.stage_report(periods[-1], settings))
    timed("marts", lambda: run_dbt(spark, settings, "run", ["--select", *marts]))
    figures["rows"]["gold"] = {}
    for table in sorted((settings.lake / "gold").iterdir()):
        if (table / "_delta_log").is_dir():
            figures["rows"]["gold"][table.name] = spark.read.format("delta").load(str(table)).count()
out.write_text(json.dumps(figures))
"""


# --- DuckDB: the activity index and the regional indicators, the dbt models' SQL in DuckDB's dialect -------------

def delta_files(path: Path) -> list[str]:
    """The Parquet files of a Delta table's current version (the transaction log decides, not the folder)."""
    from deltalake import DeltaTable

    return [u.removeprefix("file://") for u in DeltaTable(str(path)).file_uris()]


def _register(con, name: str, path: Path) -> None:
    files = delta_files(path)
    listed = ", ".join(f"'{f}'" for f in files)
    # Delta partition columns are not in the Parquet files: hive_partitioning recovers them from the paths.
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{listed}], hive_partitioning=true, "
                "union_by_name=true)")


DUCKDB_SQL = """
CREATE OR REPLACE TABLE int_enterprises_registered AS
WITH events AS (
    SELECT uscc AS enterprise_id, name AS enterprise_name, event_type, CAST(event_date AS DATE) AS event_date,
           district_code, industry_code, CAST(established_date AS DATE) AS established_on,
           registered_capital AS registered_capital_10k_cny, _period AS period, _row_number AS source_row_number
    FROM samr__registrations
), latest AS (
    SELECT *, row_number() OVER (PARTITION BY enterprise_id ORDER BY event_date DESC, period DESC,
                                 source_row_number DESC) AS recency
    FROM events
), deregistrations AS (
    SELECT enterprise_id, min(event_date) AS deregistered_on FROM events WHERE event_type = '注销' GROUP BY 1
), changes AS (
    SELECT enterprise_id, max(event_date) AS last_changed_on FROM events WHERE event_type = '变更' GROUP BY 1
)
SELECT latest.enterprise_id, latest.district_code, latest.industry_code, latest.established_on,
       latest.registered_capital_10k_cny, changes.last_changed_on, deregistrations.deregistered_on
FROM latest
LEFT JOIN deregistrations USING (enterprise_id)
LEFT JOIN changes USING (enterprise_id)
WHERE latest.recency = 1;

CREATE OR REPLACE TABLE int_months AS
SELECT DISTINCT period AS month, CAST(period || '-01' AS DATE) AS month_start,
       last_day(CAST(period || '-01' AS DATE)) AS month_end
FROM (SELECT _period AS period FROM samr__registrations UNION SELECT period FROM tax__filings
      UNION SELECT period FROM power__consumption)
WHERE period IS NOT NULL;

CREATE OR REPLACE TABLE int_enterprise_months AS
SELECT months.month, months.month_start, months.month_end, e.enterprise_id, e.district_code, e.industry_code,
       e.established_on, e.last_changed_on
FROM int_months AS months
JOIN int_enterprises_registered AS e
  ON e.established_on <= months.month_end AND (e.deregistered_on IS NULL OR e.deregistered_on > months.month_end);

CREATE OR REPLACE TABLE int_activity_signals AS
WITH base AS (SELECT * FROM int_enterprise_months),
utility AS (
    SELECT enterprise_id, month, max(least(quantity / nullif(peak_12m, 0) / 0.3, 1.0)) AS s_utility
    FROM (SELECT enterprise_id, month, utility, quantity,
                 max(quantity) OVER (PARTITION BY enterprise_id, utility ORDER BY month_index
                                     RANGE BETWEEN 11 PRECEDING AND CURRENT ROW) AS peak_12m
          FROM (SELECT *, CAST(substr(month, 1, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) AS month_index
                FROM fct_utility_use))
    GROUP BY enterprise_id, month
),
delivered AS (
    SELECT month, bool_or(source = 'utility') AS utility, bool_or(source = 'social') AS social,
           bool_or(source = 'invoices') AS invoices, bool_or(source = 'bank') AS bank
    FROM (SELECT DISTINCT 'utility' AS source, month FROM fct_utility_use
          UNION ALL SELECT DISTINCT 'social', month FROM fct_social_insurance
          UNION ALL SELECT DISTINCT 'invoices', month FROM fct_invoices
          UNION ALL SELECT DISTINCT 'bank', month FROM fct_bank_activity)
    GROUP BY month
),
bank AS (
    SELECT enterprise_id, month,
           least(transactions / greatest(0.3 * max(transactions) OVER (PARTITION BY enterprise_id ORDER BY month_index
                 RANGE BETWEEN 11 PRECEDING AND CURRENT ROW), 3.0), 1.0) AS s_bank
    FROM (SELECT *, CAST(substr(month, 1, 4) AS INT) * 12 + CAST(substr(month, 6, 2) AS INT) AS month_index
          FROM fct_bank_activity)
),
recent_licences AS (
    SELECT enterprise_id, month FROM (
        SELECT enterprise_id, decided_on,
               last_day(CAST(date_trunc('month', decided_on) + to_months(k) AS DATE)) AS candidate_end,
               strftime(date_trunc('month', decided_on) + to_months(k), '%Y-%m') AS month
        FROM fct_licences CROSS JOIN range(0, 13) AS offsets(k)
        WHERE action IN ('准予许可', '变更', '延续') AND decided_on IS NOT NULL)
    WHERE decided_on > CAST(candidate_end - INTERVAL 12 MONTH AS DATE)
),
recent_complaints AS (
    SELECT enterprise_id, month FROM (
        SELECT enterprise_id, received_on,
               last_day(CAST(date_trunc('month', received_on) + to_months(k) AS DATE)) AS candidate_end,
               strftime(date_trunc('month', received_on) + to_months(k), '%Y-%m') AS month
        FROM fct_complaints CROSS JOIN range(0, 4) AS offsets(k)
        WHERE received_on IS NOT NULL)
    WHERE received_on > CAST(candidate_end - INTERVAL 3 MONTH AS DATE)
),
monthly AS (
    SELECT enterprise_id, month, max(s_utility) AS s_utility, max(s_tax) AS s_tax, max(s_social) AS s_social,
           max(s_invoices) AS s_invoices, max(s_bank) AS s_bank, bool_or(has_recent_licence) AS has_recent_licence,
           bool_or(has_recent_complaint) AS has_recent_complaint
    FROM (
        SELECT enterprise_id, month, s_utility, NULL AS s_tax, NULL AS s_social, NULL AS s_invoices, NULL AS s_bank,
               false AS has_recent_licence,
               false AS has_recent_complaint FROM utility
        UNION ALL SELECT enterprise_id, month, NULL, CASE WHEN is_zero_declaration THEN 0.2 ELSE 1.0 END, NULL, NULL,
               NULL, false, false FROM fct_tax_filings
        UNION ALL SELECT enterprise_id, month, NULL, NULL, CASE WHEN insured_headcount > 0 THEN 1.0 ELSE 0.0 END,
               NULL, NULL, false, false FROM fct_social_insurance
        UNION ALL SELECT enterprise_id, month, NULL, NULL, NULL, CASE WHEN invoices_issued > 0 THEN 1.0 ELSE 0.0 END,
               NULL, false, false FROM fct_invoices
        UNION ALL SELECT enterprise_id, month, NULL, NULL, NULL, NULL, s_bank, false, false FROM bank
        UNION ALL SELECT enterprise_id, month, NULL, NULL, NULL, NULL, NULL, true, false FROM recent_licences
        UNION ALL SELECT enterprise_id, month, NULL, NULL, NULL, NULL, NULL, false, true FROM recent_complaints)
    GROUP BY enterprise_id, month
),
firsts AS (
    SELECT enterprise_id, min(CASE WHEN source = 'utility' THEN month END) AS first_utility,
           min(CASE WHEN source = 'social' THEN month END) AS first_social,
           min(CASE WHEN source = 'invoices' THEN month END) AS first_invoices,
           min(CASE WHEN source = 'bank' THEN month END) AS first_bank
    FROM (SELECT 'utility' AS source, enterprise_id, month FROM fct_utility_use
          UNION ALL SELECT 'social', enterprise_id, month FROM fct_social_insurance
          UNION ALL SELECT 'invoices', enterprise_id, month FROM fct_invoices
          UNION ALL SELECT 'bank', enterprise_id, month FROM fct_bank_activity)
    GROUP BY enterprise_id
),
reports AS (SELECT enterprise_id, report_year, filed_on, is_filed_on_time FROM fct_annual_reports)
SELECT base.month, base.month_end, base.enterprise_id, base.district_code, base.industry_code,
       coalesce(monthly.s_utility, 0.0) AS s_utility,
       coalesce(firsts.first_utility <= base.month AND delivered.utility, false) AS has_utility,
       coalesce(monthly.s_tax, 0.0) AS s_tax,
       coalesce(monthly.s_social, 0.0) AS s_social,
       coalesce(firsts.first_social <= base.month AND delivered.social, false) AS has_social,
       coalesce(monthly.s_invoices, 0.0) AS s_invoices,
       coalesce(firsts.first_invoices <= base.month AND delivered.invoices, false) AS has_invoices,
       coalesce(monthly.s_bank, 0.0) AS s_bank,
       coalesce(firsts.first_bank <= base.month AND delivered.bank, false) AS has_bank,
       CASE WHEN reports.is_filed_on_time THEN 1.0 WHEN reports.filed_on IS NOT NULL THEN 0.6 ELSE 0.0 END
           AS s_annual_report,
       base.established_on <= make_date(year(base.month_end) - CASE WHEN month(base.month_end) >= 7 THEN 1 ELSE 2 END,
                                        12, 31) AS has_annual_report_due,
       coalesce(base.last_changed_on > CAST(base.month_end - INTERVAL 12 MONTH AS DATE)
                AND base.last_changed_on <= base.month_end, false) AS has_recent_change,
       coalesce(monthly.has_recent_licence, false) AS has_recent_licence,
       coalesce(monthly.has_recent_complaint, false) AS has_recent_complaint
FROM base
LEFT JOIN delivered ON delivered.month = base.month
LEFT JOIN monthly ON monthly.enterprise_id = base.enterprise_id AND monthly.month = base.month
LEFT JOIN firsts ON firsts.enterprise_id = base.enterprise_id
LEFT JOIN reports ON reports.enterprise_id = base.enterprise_id
 AND reports.report_year = year(base.month_end) - CASE WHEN month(base.month_end) >= 7 THEN 1 ELSE 2 END
 AND reports.filed_on <= base.month_end;

CREATE OR REPLACE TABLE mart_enterprise_activity_monthly AS
WITH weighted AS (
    SELECT *, 25 * CAST(has_utility AS INT) AS w_utility, 20 AS w_tax, 15 * CAST(has_social AS INT) AS w_social,
           15 * CAST(has_bank AS INT) AS w_bank, 10 * CAST(has_invoices AS INT) AS w_invoices,
           15 * CAST(has_annual_report_due AS INT) AS w_annual_report
    FROM int_activity_signals
), scored AS (
    SELECT *, w_utility + w_tax + w_social + w_bank + w_invoices + w_annual_report AS w_total FROM weighted
), points AS (
    SELECT month, month_end, enterprise_id, district_code, industry_code,
           round(100.0 * w_utility * s_utility / w_total, 2) AS points_utility,
           round(100.0 * w_tax * s_tax / w_total, 2) AS points_tax,
           round(100.0 * w_social * s_social / w_total, 2) AS points_social,
           round(100.0 * w_bank * s_bank / w_total, 2) AS points_bank,
           round(100.0 * w_invoices * s_invoices / w_total, 2) AS points_invoices,
           round(100.0 * w_annual_report * s_annual_report / w_total, 2) AS points_annual_report,
           3.0 * CAST(has_recent_change AS INT) + 3.0 * CAST(has_recent_licence AS INT)
               + 3.0 * CAST(has_recent_complaint AS INT) AS points_bonus
    FROM scored
), indexed AS (
    SELECT *, CAST(least(points_utility + points_tax + points_social + points_bank + points_invoices
                         + points_annual_report + points_bonus, 100.0) AS DOUBLE) AS activity_index
    FROM points
)
SELECT *, CASE WHEN activity_index >= 70 THEN 'active' WHEN activity_index >= 40 THEN 'normal'
               WHEN activity_index >= 15 THEN 'low' ELSE 'dormant' END AS band
FROM indexed;

CREATE OR REPLACE TABLE mart_region_indicators_monthly AS
WITH grid AS (
    SELECT months.month, months.month_start, months.month_end, d.district_code, s.industry_code
    FROM int_months AS months CROSS JOIN ref_divisions AS d CROSS JOIN ref_industry_sections AS s
), flows AS (
    SELECT months.month, e.district_code, e.industry_code,
           sum(CASE WHEN e.established_on BETWEEN months.month_start AND months.month_end THEN 1 ELSE 0 END)
               AS new_registrations,
           sum(CASE WHEN e.deregistered_on BETWEEN months.month_start AND months.month_end THEN 1 ELSE 0 END)
               AS deregistrations,
           sum(CASE WHEN e.established_on <= months.month_end
                     AND (e.deregistered_on IS NULL OR e.deregistered_on > months.month_end) THEN 1 ELSE 0 END)
               AS stock,
           sum(CASE WHEN e.established_on BETWEEN months.month_start AND months.month_end
                    THEN e.registered_capital_10k_cny ELSE 0 END) AS new_capital_10k_cny,
           sum(CASE WHEN e.established_on <= months.month_end
                     AND (e.deregistered_on IS NULL OR e.deregistered_on > months.month_end)
                    THEN e.registered_capital_10k_cny ELSE 0 END) AS stock_capital_10k_cny
    FROM int_months AS months CROSS JOIN int_enterprises_registered AS e
    GROUP BY months.month, e.district_code, e.industry_code
), activity AS (
    SELECT month, district_code, industry_code, count(*) AS scored,
           sum(CASE WHEN band IN ('active', 'normal') THEN 1 ELSE 0 END) AS operating,
           sum(CASE WHEN band = 'dormant' THEN 1 ELSE 0 END) AS dormant, avg(activity_index) AS mean_activity_index
    FROM mart_enterprise_activity_monthly GROUP BY month, district_code, industry_code
), joined AS (
    SELECT grid.*, coalesce(flows.new_registrations, 0) AS new_registrations,
           coalesce(flows.deregistrations, 0) AS deregistrations, coalesce(flows.stock, 0) AS stock,
           coalesce(flows.new_registrations, 0) - coalesce(flows.deregistrations, 0) AS net_growth,
           CAST(coalesce(flows.new_capital_10k_cny, 0) AS DOUBLE) AS new_capital_10k_cny,
           CAST(coalesce(flows.stock_capital_10k_cny, 0) AS DOUBLE) AS stock_capital_10k_cny,
           coalesce(activity.operating, 0) AS operating, coalesce(activity.dormant, 0) AS dormant,
           CASE WHEN coalesce(activity.scored, 0) = 0 THEN NULL
                ELSE round(activity.operating / activity.scored, 6) END AS activity_rate,
           round(activity.mean_activity_index, 2) AS mean_activity_index
    FROM grid
    LEFT JOIN flows ON flows.month = grid.month AND flows.district_code = grid.district_code
     AND flows.industry_code = grid.industry_code
    LEFT JOIN activity ON activity.month = grid.month AND activity.district_code = grid.district_code
     AND activity.industry_code = grid.industry_code
)
SELECT *,
       round(stock / nullif(sum(stock) OVER (PARTITION BY month, district_code), 0), 6) AS industry_share,
       round(stock / nullif(lag(stock) OVER (PARTITION BY district_code, industry_code ORDER BY month), 0) - 1, 6)
           AS stock_mom,
       round(stock / nullif(lag(stock, 12) OVER (PARTITION BY district_code, industry_code ORDER BY month), 0) - 1,
             6) AS stock_yoy
FROM joined;
"""

# The figures compared between DuckDB's marts and Spark's: counts exactly, sums of indices to 1e-5 relative (a mean
# that lands on x.xx5 may round either way after the two engines add doubles in different orders).
CHECKS = {
    "mart_enterprise_activity_monthly": "SELECT count(*), sum(CASE WHEN band = 'dormant' THEN 1 ELSE 0 END), "
                                        "sum(activity_index) FROM {t}",
    "mart_region_indicators_monthly": "SELECT count(*), sum(stock), sum(new_registrations), sum(deregistrations), "
                                      "sum(coalesce(mean_activity_index, 0)) FROM {t}",
}


def _agree(a: list, b: list) -> bool:
    return all(x == y if isinstance(x, int) else math.isclose(x, y, rel_tol=1e-5) for x, y in zip(a, b))
SILVER_INPUTS = {  # view name -> layer/table under the lake
    "samr__registrations": "silver/samr__registrations", "tax__filings": "silver/tax__filings",
    "power__consumption": "silver/power__consumption", "ref_divisions": "silver/ref_divisions",
    "ref_industry_sections": "silver/ref_industry_sections", "fct_utility_use": "silver/fct_utility_use",
    "fct_bank_activity": "silver/fct_bank_activity", "fct_social_insurance": "silver/fct_social_insurance",
    "fct_invoices": "silver/fct_invoices", "fct_tax_filings": "silver/fct_tax_filings",
    "fct_annual_reports": "silver/fct_annual_reports", "fct_licences": "silver/fct_licences",
    "fct_complaints": "silver/fct_complaints",
}


def duckdb_marts(lake: Path, threads: int) -> dict:
    """Compute the two marts in DuckDB from the lake's silver tables; seconds, and their figures beside Spark's."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t = time.monotonic()
    for name, rel in SILVER_INPUTS.items():
        _register(con, name, lake / rel)
    con.execute(DUCKDB_SQL)
    seconds = time.monotonic() - t
    figures = {}
    for mart, sql in CHECKS.items():
        _register(con, f"spark_{mart}", lake / "gold" / mart)
        figures[mart] = {"duckdb": list(con.execute(sql.format(t=mart)).fetchone()),
                         "spark": list(con.execute(sql.format(t=f"spark_{mart}")).fetchone())}
    con.close()
    return {"seconds": seconds, "same": all(_agree(f["duckdb"], f["spark"]) for f in figures.values()), "figures": figures}


# --- measuring -----------------------------------------------------------------------------------------------------

def layer_footprint(home: Path) -> dict[str, dict[str, int]]:
    """Per layer (and the serving store and reports): data files (Parquet), all files, bytes."""
    places = {layer: home / "lake" / layer for layer in LAYERS}
    places.update(serving=home / "serving", reports=home / "reports")
    out = {}
    for name, folder in places.items():
        files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
        out[name] = {"parquet": sum(p.suffix == ".parquet" for p in files), "files": len(files),
                     "bytes": sum(p.stat().st_size for p in files)}
    return out


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generate(landing: Path, size: int, start: str, end: str, gold_inputs_only: bool) -> dict:
    """Generate the landing zone in a fresh process (its own peak RSS); seconds, rows, bytes."""
    code = (
        "import json, resource, sys, time\nfrom pathlib import Path\n"
        "from creditlake.generate import generate_landing\nfrom creditlake.pipeline import GOLD_INPUTS\n"
        "t = time.monotonic()\n"
        f"s = generate_landing(Path({str(landing)!r}), {size}, {start!r}, {end!r}, seed=11, fault_rate=0.01, "
        f"only={'list(GOLD_INPUTS)' if gold_inputs_only else 'None'})\n"
        "print(json.dumps({'seconds': time.monotonic() - t, 'rows': s['rows'], "
        "'python_mb': max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024}))\n"
    )
    shutil.rmtree(landing, ignore_errors=True)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"generate failed at {size}: {res.stderr[-2000:]}")
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    files = [p for p in landing.rglob("*") if p.is_file()]
    figures.update(files=len(files), bytes=sum(p.stat().st_size for p in files),
                   datasets=sum(1 for p in landing.glob("*/*") if p.is_dir()))
    return figures


def spark_process(code: str, args: list[str], home: Path, key: Path, what: str) -> None:
    """Run `code` in a fresh Python process with its own CREDITLAKE_HOME (and so its own SparkSession); its
    progress lines (indented six spaces on stderr) shown as they come, the rest kept for the error it exits with."""
    env = {**os.environ, "CREDITLAKE_HOME": str(home), "CREDITLAKE_PSEUDONYM_KEY_FILE": str(key)}
    env.pop("CREDITLAKE_SERVING_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    tail: list[str] = []
    for line in proc.stderr:
        if line.startswith("      "):
            progress(line.rstrip())
        tail = (tail + [line])[-60:]
    if proc.wait() != 0:
        raise SystemExit(f"the {what} Spark run failed ({home}):\n{''.join(tail)}")


def spark_run(work: Path, landing: Path, start: str, end: str, mode: str, key: Path) -> tuple[dict, Path]:
    home = work / f"home-{mode}-{time.monotonic_ns()}"
    out = home.with_suffix(".json")
    spark_process(SPARK_RUN, [str(landing), start, end, mode, str(out), ",".join(REFERENCE_MARTS)], home, key, mode)
    return json.loads(out.read_text()), home


def slope(sizes: list[int], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) against log(size): 1 is linear, < 1 is fixed costs dominating."""
    pts = [(math.log(n), math.log(s)) for n, s in zip(sizes, seconds) if s > 0]
    if len(pts) < 2:
        return None
    mx, my = statistics.fmean(p[0] for p in pts), statistics.fmean(p[1] for p in pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else None


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def bench_size(size: int, args, work: Path) -> dict:
    from creditlake.periods import month_range

    months = month_range(args.start, args.end)
    landing = work / f"landing-{size}"
    key = work / "pseudonym.key"
    gens = []
    for i in range(args.repeat if not args.generate_once else 1):
        gens.append(generate(landing, size, args.start, args.end, args.gold_inputs_only))
        progress(f"[{size:,}] generate {i + 1}: {gens[-1]['seconds']:.1f} s, {gens[-1]['rows']:,} rows, "
                 f"{gens[-1]['bytes'] / 1e6:.1f} MB")
    full, duck = [], []
    for i in range(0 if args.incremental_only else args.repeat):
        progress(f"[{size:,}] full run {i + 1}/{args.repeat} ({len(months)} months)")
        figures, home = spark_run(work, landing, args.start, args.end, "full", key)
        figures["footprint"] = layer_footprint(home)
        full.append(figures)
        d = duckdb_marts(home / "lake", args.duckdb_threads)
        duck.append(d)
        progress(f"      duckdb   {d['seconds']:7.1f} s  (marts in Spark {figures['stages']['marts']:.1f} s; "
                 f"same results: {d['same']})")
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    floors = []
    for i in range(0 if args.incremental_only else args.repeat):
        pair = {}
        for checks in (False, True):
            out = work / f"floor-{size}"
            pair["checked" if checks else "plain"] = floor(landing, out, args.duckdb_threads, checks)
            shutil.rmtree(out, ignore_errors=True)
        floors.append(pair)
        progress(f"      floor    {pair['plain']['seconds']:7.1f} s plain, {pair['checked']['seconds']:.1f} s checked "
                 f"(DuckDB, {args.duckdb_threads} threads, {pair['plain']['rows']:,} rows)")
    inc = []
    wanted = not args.no_incremental and (args.incremental_sizes is None or size in args.incremental_sizes)
    for i in range(args.repeat if wanted else 0):
        progress(f"[{size:,}] incremental month {i + 1}/{args.repeat} ({months[-1]} on a {len(months) - 1}-month lake)")
        figures, home = spark_run(work, landing, args.start, args.end, "incremental", key)
        inc.append(figures)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    return {"size": size, "months": len(months), "generate": gens, "full": full, "duckdb": duck, "floor": floors,
            "incremental": inc}


# --- the tables ----------------------------------------------------------------------------------------------------

def incremental_only(result: dict) -> dict:
    inc = {s: median(r["stages"][s] for r in result["incremental"]) for s in INCREMENTAL_STAGES}
    return {"size": result["size"], "months": result["months"], "incremental_s": inc,
            "incremental_total_s": sum(inc.values()),
            "incremental_jobs": {s: result["incremental"][0]["jobs"][s] for s in INCREMENTAL_STAGES}}


def summarise(result: dict) -> dict:
    if not result["full"]:
        return incremental_only(result)
    full, gens = result["full"], result["generate"]
    stage_s = {"generate": median(g["seconds"] for g in gens)}
    for stage in SPARK_STAGES:
        stage_s[stage] = median(r["stages"][stage] for r in full)
    rows = {"generate": gens[0]["rows"], "bronze": full[0]["rows"]["bronze"], "silver": full[0]["rows"]["bronze"],
            "quality": full[0]["rows"]["silver"], "gold": full[0]["rows"]["silver"],
            "publish": full[0]["rows"]["publish"], "report": None}
    pipeline = sum(stage_s[s] for s in SPARK_STAGES)
    summary = {
        "size": result["size"], "months": result["months"], "stage_s": stage_s, "rows": rows,
        "pipeline_s": pipeline, "session_s": median(r["session_s"] for r in full),
        "jvm_mb": median(max(v for v in r["jvm_mb"].values() if v) for r in full),
        "python_mb": median(max(r["python_mb"].values()) for r in full),
        "generate_python_mb": median(g["python_mb"] for g in gens),
        "footprint": full[0]["footprint"], "landing": {"files": gens[0]["files"], "bytes": gens[0]["bytes"],
                                                       "datasets": gens[0].get("datasets")},
        "gold_rows": full[0]["rows"]["gold"],
        "jobs": {st: full[0]["jobs"][st] for st in SPARK_STAGES},
        "marts_spark_s": median(r["stages"]["marts"] for r in full),
        "marts_duckdb_s": median(d["seconds"] for d in result["duckdb"]),
        "duckdb_same": all(d["same"] for d in result["duckdb"]),
        "duckdb_figures": result["duckdb"][0]["figures"],
        "runs": len(full),
        "floor_s": {k: median(f[k]["seconds"] for f in result["floor"]) for k in ("plain", "checked")},
        "floor_rows": result["floor"][0]["plain"]["rows"],
    }
    if result["incremental"]:
        inc = {s: median(r["stages"][s] for r in result["incremental"]) for s in INCREMENTAL_STAGES}
        summary["incremental_s"] = inc
        summary["incremental_jobs"] = {s: result["incremental"][0]["jobs"][s] for s in INCREMENTAL_STAGES}
        summary["incremental_total_s"] = sum(inc.values())
        summary["recompute_total_s"] = sum(stage_s[s] for s in INCREMENTAL_STAGES)
    return summary


def fmt_rate(rows, seconds) -> str:
    return f"{rows / seconds:>10,.0f}" if rows and seconds and seconds > 0 else f"{'':>10}"


def print_incremental(summaries: list[dict]) -> None:
    print("\n## Incremental month against a full recompute (bronze + silver + quality + gold), s (Spark jobs)")
    print(f"{'enterprises':>11} {'months':>6} " + " ".join(f"{s:>13}" for s in INCREMENTAL_STAGES)
          + f" {'total s':>8} {'full s':>8} {'ratio':>6}")
    for s in summaries:
        if "incremental_s" not in s:
            continue
        full = s.get("recompute_total_s")
        print(f"{s['size']:>11,} {str(s['months'] - 1) + '+1':>6} "
              + " ".join(f"{s['incremental_s'][x]:>7.1f} ({s['incremental_jobs'][x]:>3})" for x in INCREMENTAL_STAGES)
              + f" {s['incremental_total_s']:>8.1f} {full or float('nan'):>8.1f} "
              f"{s['incremental_total_s'] / full if full else float('nan'):>6.2f}")


def print_tables(summaries: list[dict], project: list[int]) -> None:
    if not any("stage_s" in s for s in summaries):
        print_incremental(summaries)
        return
    print("\n## Seconds per stage (median), rows/s, Spark jobs (actions) the stage ran")
    print(f"{'stage':<9}" + "".join(f" | {s['size']:>9,} ent: s {'rows/s':>10} {'jobs':>5}" for s in summaries))
    for stage in (*STAGES, "pipeline"):
        line = f"{stage:<9}"
        for s in summaries:
            secs = s["pipeline_s"] if stage == "pipeline" else s["stage_s"][stage]
            rows = s["rows"]["bronze"] if stage == "pipeline" else s["rows"][stage]
            jobs = sum(s["jobs"].values()) if stage == "pipeline" else s["jobs"].get(stage, "")
            line += f" | {secs:>18.1f} {fmt_rate(rows, secs)} {jobs:>5}"
        print(line)
    print("(rows: landed rows for generate, bronze, silver and the whole pipeline; silver rows for quality and "
          "gold; served rows for publish)")
    print("\n## Spark jobs per delivered dataset (a small constant when the cost follows the rows)")
    print(f"{'enterprises':>11} {'datasets':>8} " + " ".join(f"{st:>8}" for st in SPARK_STAGES) + f" {'run':>8}")
    for s in summaries:
        n = s["landing"].get("datasets") or 0
        if n:
            print(f"{s['size']:>11,} {n:>8} " + " ".join(f"{s['jobs'][st] / n:>8.1f}" for st in SPARK_STAGES)
                  + f" {sum(s['jobs'].values()) / n:>8.1f}")

    print("\n## Memory (median of runs' peaks) and landing size")
    print(f"{'enterprises':>11} {'months':>6} {'landing MB':>10} {'files':>6} {'JVM peak MB':>11} "
          f"{'Python peak MB':>14} {'generator MB':>12} {'session s':>9} {'runs':>4}")
    for s in summaries:
        print(f"{s['size']:>11,} {s['months']:>6} {s['landing']['bytes'] / 1e6:>10.1f} {s['landing']['files']:>6} "
              f"{s['jvm_mb']:>11.0f} {s['python_mb']:>14.0f} {s['generate_python_mb']:>12.0f} "
              f"{s['session_s']:>9.1f} {s['runs']:>4}")

    print("\n## Written per layer (one run): Parquet files / all files / MB")
    places = list(summaries[0]["footprint"])
    print(f"{'enterprises':>11} " + " ".join(f"{p:>22}" for p in places))
    for s in summaries:
        print(f"{s['size']:>11,} " + " ".join(
            f"{f['parquet']:>6} /{f['files']:>6} /{f['bytes'] / 1e6:>7.1f}" for f in s["footprint"].values()))

    print("\n## The activity index and regional indicators: Spark (dbt run of the two marts) against DuckDB")
    print(f"{'enterprises':>11} {'mart rows':>10} {'Spark s':>8} {'DuckDB s':>8} {'Spark/DuckDB':>12} {'same':>5}")
    for s in summaries:
        rows = s["gold_rows"].get(REFERENCE_MARTS[0], 0) + s["gold_rows"].get(REFERENCE_MARTS[1], 0)
        print(f"{s['size']:>11,} {rows:>10,} {s['marts_spark_s']:>8.1f} {s['marts_duckdb_s']:>8.2f} "
              f"{s['marts_spark_s'] / s['marts_duckdb_s']:>12.1f} {str(s['duckdb_same']):>5}")
    print("(same: the two marts' row counts agree exactly between DuckDB and Spark, their index sums to 1e-5)")

    print("\n## The DuckDB floor: the same landing files read, (checked,) written as Parquet; the pipeline against it")
    print(f"{'enterprises':>11} {'rows':>10} {'plain s':>8} {'rows/s':>10} {'checked s':>9} {'rows/s':>10} "
          f"{'pipeline s':>10} {'rows/s':>10} {'/plain':>7} {'/checked':>8} {'bronze+silver/checked':>21}")
    for s in summaries:
        rows, fl, pipe = s["rows"]["bronze"], s["floor_s"], s["pipeline_s"]
        # Cost per row against the floor's cost per row over the same files (the floor also reads rejected files).
        per_row = lambda secs, n: secs / n if n else float("nan")  # noqa: E731
        ratio = lambda secs, floor_s: per_row(secs, rows) / per_row(floor_s, s["floor_rows"])  # noqa: E731
        print(f"{s['size']:>11,} {rows:>10,} {fl['plain']:>8.1f} {fmt_rate(s['floor_rows'], fl['plain'])} "
              f"{fl['checked']:>9.1f} {fmt_rate(s['floor_rows'], fl['checked'])} {pipe:>10.1f} {fmt_rate(rows, pipe)} "
              f"{ratio(pipe, fl['plain']):>7.1f} {ratio(pipe, fl['checked']):>8.1f} "
              f"{ratio(s['stage_s']['bronze'] + s['stage_s']['silver'], fl['checked']):>21.1f}")
    print("(ratios are cost per row: the pipeline's seconds per landed row over the floor's seconds per row read)")

    sizes = [s["size"] for s in summaries]
    print("\n## Log-log slope of time against size (1 = linear; < 1: fixed costs still dominate)")
    print(f"{'stage':<9} {'all sizes':>9} {'last two':>9}")
    slopes = {}
    for stage in (*STAGES, "pipeline"):
        secs = [s["pipeline_s"] if stage == "pipeline" else s["stage_s"][stage] for s in summaries]
        fit, slopes[stage] = slope(sizes, secs), slope(sizes[-2:], secs[-2:])
        print(f"{stage:<9} {'n/a' if fit is None else format(fit, '.2f'):>9} "
              f"{'n/a' if slopes[stage] is None else format(slopes[stage], '.2f'):>9}")
    targets = [n for n in project if n not in sizes]
    if targets and slopes["pipeline"] is not None:
        print("\n## PROJECTION (not measured): each stage's time extrapolated from the largest measured size along "
              "the slope between the two largest sizes (a slope still rising with size makes this a lower bound)")
        last = summaries[-1]
        print(f"{'stage':<9}" + "".join(f" | {n:>12,} ent (projected s)" for n in targets))
        for stage in (*STAGES, "pipeline"):
            base = last["pipeline_s"] if stage == "pipeline" else last["stage_s"][stage]
            k = slopes[stage] if slopes[stage] is not None else 1.0
            print(f"{stage:<9}" + "".join(f" | {base * (n / last['size']) ** k:>29,.0f}" for n in targets))

    print_incremental(summaries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="enterprises per landing zone (default: 10000 100000 1000000)")
    parser.add_argument("--start", default="2023-01", help="first month (default 2023-01)")
    parser.add_argument("--end", default="2024-12", help="last month (default 2024-12: 24 months)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; figures are medians")
    parser.add_argument("--generate-once", action="store_true", help="time the generator once per size")
    parser.add_argument("--no-incremental", action="store_true", help="skip the incremental-month runs")
    parser.add_argument("--incremental-sizes", type=int, nargs="*", default=None,
                        help="sizes at which to run the incremental month (default: every size)")
    parser.add_argument("--incremental-only", action="store_true",
                        help="only the incremental-month runs (no full runs, no DuckDB; no ratio printed)")
    parser.add_argument("--gold-inputs-only", action="store_true",
                        help="generate only the 28 datasets the gold models read (default: all catalogued datasets)")
    parser.add_argument("--project", type=int, nargs="*", default=[1_000_000],
                        help="sizes to project from the fitted slopes when not measured")
    parser.add_argument("--duckdb-threads", type=int, default=2, help="DuckDB threads (Spark gets local[2])")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep each run's CREDITLAKE_HOME")
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    work = args.work or Path(tempfile.mkdtemp(prefix="creditlake-pipeline-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    from creditlake.settings import get_settings

    conf = get_settings()
    progress(f"work folder {work}; Spark master {conf.spark_master}, shuffle partitions {conf.shuffle_partitions}, "
             f"Delta optimized writes {conf.delta_optimize_write}; started {time.strftime('%Y-%m-%d %H:%M')}")
    results, summaries = [], []
    for size in sorted(args.sizes):
        results.append(bench_size(size, args, work))
        summaries.append(summarise(results[-1]))
        if args.json:
            args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                             "settings": {"spark_master": conf.spark_master,
                                                          "shuffle_partitions": conf.shuffle_partitions,
                                                          "delta_optimize_write": conf.delta_optimize_write},
                                             "summaries": summaries, "runs": results}, indent=1, default=str))
        print_tables(summaries, args.project)  # after every size: a long run shows what it has so far
        sys.stdout.flush()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbenchmark process peak RSS (DuckDB side included): {peak:.0f} MB")


if __name__ == "__main__":
    main()
