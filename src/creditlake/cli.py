"""The `creditlake` command line: thin verbs over the package; user errors end in one red line and exit code 2."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from creditlake.settings import get_settings

app = typer.Typer(
    help="creditlake: the enterprise-credit lakehouse of a city market regulator (贵阳市企业信用信息块数据库).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
superset_app = typer.Typer(help="Run the Superset server that shows the dashboards.", no_args_is_help=True)
app.add_typer(superset_app, name="superset")
airflow_app = typer.Typer(help="Run Airflow's scheduler, DAG processor and API server (UI) for this lake.",
                          no_args_is_help=True)
app.add_typer(airflow_app, name="airflow")
cluster_app = typer.Typer(help="Run a Spark standalone cluster (master + workers from the pyspark wheel) on 127.0.0.1.",
                          no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")
api_app = typer.Typer(help="Run the enterprise profile query service and manage its access tokens.",
                      no_args_is_help=True)
app.add_typer(api_app, name="api")
spark_app = typer.Typer(help="Run the home's Spark service (one Spark Connect server every process of the home uses).",
                        no_args_is_help=True)
app.add_typer(spark_app, name="spark")
quarantine_app = typer.Typer(help="List rejected deliveries and quarantined rows; release a re-sent delivery.")
app.add_typer(quarantine_app, name="quarantine")


def _register_subcommands() -> None:
    """Verbs that live beside the package they drive (their own Typer apps)."""
    from creditlake.ledger.cli import app as ledger_app
    from creditlake.mediation.cli import app as mediation_app

    app.add_typer(mediation_app, name="mediate")
    app.add_typer(ledger_app, name="ledger")


_register_subcommands()
# soft_wrap: paths and URLs stay on one line when the output is not a terminal.
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


Month = Annotated[str, typer.Option(help="Month, YYYY-MM.", metavar="YYYY-MM")]


def _setup_logging() -> None:
    settings = get_settings()
    settings.logs.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.logs / "creditlake.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("py4j", "great_expectations", "dbt"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _timed(label: str):
    start = time.monotonic()

    def done(detail: str = "") -> None:
        console.print(f"[green]✓[/] {label} [dim]({time.monotonic() - start:.1f} s)[/] {detail}")

    return done


@app.command()
def generate(
    landing: Annotated[Path, typer.Option(help="Landing folder to write deliveries into.")],
    enterprises: Annotated[int, typer.Option(min=10, max=5_000_000, help="Number of enterprises.")] = 1000,
    start: Month = "2024-01",
    end: Month = "2024-06",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 42,
    fault_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows with a planted fault.")] = 0.0,
    delivery_fault_rate: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of deliveries that break the landing contract.")] = 0.0,
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", help="Only this source or source/dataset (repeatable); default: the whole catalogue.")] = None,
    at_source: Annotated[Optional[Path], typer.Option(
        help="Where departments keep the datasets that never enter the lake (residency: at_source); "
             "default: CREDITLAKE_AT_SOURCE_DIR or CREDITLAKE_HOME/at_source.")] = None,
) -> None:
    """Generate a synthetic landing zone (deliveries + manifests) with planted truth beside it; datasets kept at
    their source go to the department's folder (--at-source), not to the landing zone."""
    from rich.progress import Progress

    from creditlake.generate import generate_landing
    from creditlake.periods import month_range

    from creditlake.catalogue import default_catalogue
    from creditlake.generate.landing_zone import select_datasets

    month_range(start, end)  # a bad month fails here, in one line, before any work
    total = len(select_datasets(default_catalogue(), only))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("generating datasets", total=total)
        summary = generate_landing(landing, enterprises, start, end, seed, fault_rate,
                                   progress=lambda _p: progress.advance(task), only=only,
                                   delivery_fault_rate=delivery_fault_rate,
                                   at_source=at_source or get_settings().at_source)
    out.print_json(data=summary)


@app.command()
def ingest(
    landing: Annotated[Path, typer.Option(help="Landing folder with source/dataset/YYYY-MM deliveries.")],
    period: Annotated[Optional[list[str]], typer.Option(help="Only these months (repeatable).")] = None,
    sources: Annotated[Optional[list[str]], typer.Option("--source", help="Only these sources (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
) -> None:
    """Ingest deliveries: landing -> bronze -> silver, with quarantine and accounting."""
    from creditlake.ingest.landing import find_deliveries
    from creditlake.catalogue import default_catalogue
    from creditlake.pipeline import stage_ingest, stage_silver

    periods = period or sorted({d.period for d in find_deliveries(landing, default_catalogue())})
    def progress(layer: str):
        return lambda name: console.print(f"  [cyan]→[/] {layer} {name}")

    done = _timed("bronze")
    bronze = stage_ingest(landing, periods, sources, on_dataset=progress("bronze"))
    done(f"{len(bronze)} deliveries")
    done = _timed("silver")
    silver = stage_silver(periods, sources, on_dataset=progress("silver"))
    done(f"{sum(r['loaded'] for r in silver)} rows loaded, {sum(r['quarantined'] for r in silver)} quarantined")
    for r in bronze:
        if r["status"] == "rejected":
            console.print(f"[red]rejected[/] {r['reason']}")
        elif r["status"] == "held_at_source":
            console.print(f"[blue]held at source[/] {r['delivery']}: not read, not copied (secret; "
                          "`creditlake secret-query` asks it for flags)")
    for r in silver:
        for example in r["examples"]:
            console.print(f"[yellow]quarantined[/] {example}")
        if r["quarantined"] > len(r["examples"]):
            console.print(f"  … {r['quarantined'] - len(r['examples'])} more in {r['delivery']}: "
                          "`creditlake accounting` and lake/ops/quarantine have them all")
    if as_json:
        out.print_json(data={"bronze": bronze, "silver": silver})


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Landing folder.")],
    start: Month,
    end: Month,
    datasets: Annotated[Optional[list[str]], typer.Option(
        "--dataset", help="Only this source/dataset (repeatable); default: every catalogued dataset delivered.")] = None,
) -> None:
    """Run every stage in-process, in order: ingest, silver, secret queries, quality, gold (dbt), publish, report,
    dashboards (their month filters, when Superset is set up here)."""
    from creditlake.pipeline import run_all

    state = {"t": time.monotonic(), "name": None}

    def on_stage(name: str) -> None:
        if state["name"]:
            console.print(f"[green]✓[/] {state['name']} [dim]({time.monotonic() - state['t']:.1f} s)[/]")
        state.update(t=time.monotonic(), name=name)
        console.print(f"[cyan]→[/] {name}")

    summary = run_all(landing, start, end, on_stage=on_stage, datasets=datasets)
    on_stage("")
    out.print(f"report: {summary['report']}")
    out.print(f"serving: {get_settings().serving}")


@app.command("secret-query")
def secret_query(
    month: Annotated[Optional[str], typer.Option(help="First (or only) month, YYYY-MM.", metavar="YYYY-MM")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last month, YYYY-MM (default: --month).", metavar="YYYY-MM")] = None,
    purpose: Annotated[Optional[str], typer.Option(help="Why the lake asks (sent and kept in the ledger).")] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Instead of asking: recompute the hashes of every kept question and answer and match "
                         "them with the ledger.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ledger records as JSON.")] = False,
) -> None:
    """Use without copying (数据不出域): ask each dataset kept at its source about every enterprise in the lake;
    only derived flags come back (silver.pboc__loan_default_flags); question and answer hashes go in the ledger."""
    from creditlake.at_source.query import verify_exchanges
    from creditlake.periods import month_range
    from creditlake.pipeline import stage_secret_queries

    settings = get_settings()
    if verify:
        problems = verify_exchanges(settings)
        for p in problems:
            console.print(f"[red]✗[/] {p}")
        if problems:
            raise RuntimeError(f"{len(problems)} question/answer exchanges do not match the ledger")
        console.print("[green]✓[/] every kept question and answer matches its secret_query ledger event")
        return
    if not month:
        raise ValueError("--month YYYY-MM is required (or --verify)")
    results = stage_secret_queries(month_range(month, end or month), settings, purpose=purpose)
    if as_json:
        out.print_json(data=results)
        return
    if not results:
        console.print("[yellow]nothing asked[/]: no enterprises in silver yet (ingest samr/registrations first)")
    for r in results:
        if r["status"] == "answered":
            out.print(f"{r['source']}/{r['dataset']} {r['month']}: {r['n_keys']} enterprises asked, "
                      f"{r['n_positive']} flagged; question {r['question_sha256'][:16]}…, "
                      f"answer {r['answer_sha256'][:16]}… (ledger)")
        else:
            console.print(f"[yellow]not asked[/] {r['source']}/{r['dataset']} {r['month']}: {r['reason']}")


@app.command()
def accounting(
    period: Annotated[Optional[str], typer.Option(help="Only this month, YYYY-MM.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of objects.")] = False,
) -> None:
    """Show, per delivery, declared, landed, loaded and quarantined rows (landed = loaded + quarantined)."""
    from creditlake.quality.accounting import read_accounting
    from creditlake.spark import get_spark

    rows = read_accounting(get_spark(), get_settings(), period)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
        return
    table = Table(title="入湖核算 Accounting")
    for col in ("delivery", "status", "declared", "landed", "loaded", "quarantined", "duplicates", "by rule"):
        table.add_column(col)
    for r in rows:
        by_rule = ", ".join(f"{k}={v}" for k, v in sorted((r["quarantined_by_rule"] or {}).items()))
        table.add_row(r["delivery"], r["status"], str(r["declared"]), str(r["landed"]), str(r["loaded"]),
                      str(r["quarantined"]), str(r["duplicates"]), by_rule)
    out.print(table)


@quarantine_app.callback(invoke_without_command=True)
def quarantine(
    ctx: typer.Context,
    period: Annotated[Optional[str], typer.Option(help="Only this month, YYYY-MM.", metavar="YYYY-MM")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only this source.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Only this dataset (its code).")] = None,
    rows: Annotated[int, typer.Option(min=0, help="How many quarantined rows to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print {deliveries, rows_total, rows} as JSON.")] = False,
) -> None:
    """List rejected deliveries (reason, files, checksums, pseudonymised rows kept) and quarantined rows (file,
    row, rule, column, value; values cut to 80 characters, personal values as pseudonyms)."""
    if ctx.invoked_subcommand is not None:
        return
    from creditlake.ingest.quarantine import RULE_LABELS, quarantined_rows, rejected_deliveries
    from creditlake.spark import get_spark

    settings = get_settings()
    spark = get_spark(settings)
    deliveries = rejected_deliveries(spark, settings, period, source, dataset)
    total, listed = quarantined_rows(spark, settings, period, source, dataset, limit=rows)
    if as_json:
        print(json.dumps({"deliveries": deliveries, "rows_total": total, "rows": listed}, ensure_ascii=False,
                         default=str, indent=1))
        return
    if deliveries:
        table = Table(title=f"拒收的交付（{len(deliveries)} 批）")
        for col in ("交付", "原因", "文件（字节，SHA-256）", "保留行（已假名化）"):
            table.add_column(col)
        for d in deliveries:
            files = "\n".join(f"{f['name']}（{f['bytes']:,}，{f['sha256'][:12]}…）" for f in d["files"]) or "—"
            table.add_row(d["delivery"], d["reason"], files, str(d["rows_kept"] or 0))
        out.print(table)
        out.print("部门重新报送后：creditlake quarantine release 来源/数据集/YYYY-MM")
    else:
        out.print("没有拒收的交付。")
    if listed:
        table = Table(title=f"隔离的行（共 {total:,} 行，显示前 {len(listed)} 行）")
        for col in ("文件", "行", "规则", "列", "值"):
            table.add_column(col)
        for r in listed:
            table.add_row(r["file"], str(r["row_number"]), RULE_LABELS.get(r["rule"], r["rule"]), r["column"] or "",
                          "空" if r["value"] is None else r["value"])
        out.print(table)
    elif total:
        out.print(f"共 {total:,} 行被隔离（--rows 指定显示行数）。")
    else:
        out.print("没有隔离的行。")


@quarantine_app.command("release")
def quarantine_release(
    delivery: Annotated[str, typer.Argument(help="The delivery: source/dataset/YYYY-MM.")],
    landing: Annotated[Optional[Path], typer.Option(
        help="Landing zone root (default: the one the delivery was rejected from).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingest results as JSON.")] = False,
) -> None:
    """Re-ingest a rejected delivery once the department has re-sent it: checked again, then bronze and silver
    (the whole month's silver when it is the enterprise register), and its quarantine record removed."""
    from creditlake.pipeline import release_delivery

    done = _timed(f"release {delivery}")
    result = release_delivery(delivery, landing)
    loaded = sum(r["loaded"] for r in result["silver"] if r["delivery"] == delivery)
    quarantined = sum(r["quarantined"] for r in result["silver"] if r["delivery"] == delivery)
    done(f"{loaded} 行入湖，{quarantined} 行隔离")
    if as_json:
        out.print_json(data=result)
        return
    statuses = {r["status"] for r in result["bronze"]}
    if statuses == {"skipped"}:
        out.print(f"{delivery} 早已入湖（同一文件），无需放行。")
    else:
        out.print(f"{delivery} 已放行：{loaded} 行入湖，{quarantined} 行隔离；下一次月度运行（或 creditlake run）更新指标。")


@app.command()
def report(
    month: Month,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="PDF path (default: home/reports/).")] = None,
    send: Annotated[bool, typer.Option(
        "--send", help="Also mail it to the report's recipients (CREDITLAKE_SMTP_HOST, CREDITLAKE_REPORT_RECIPIENTS), "
        "as the monthly DAG does: once per report and address.")] = False,
) -> None:
    """Render the monthly Chinese PDF report for policy makers from the serving store."""
    from creditlake.report.monthly import render_monthly_report

    settings = get_settings()
    path = render_monthly_report(settings, month, out_file)
    out.print(str(path))
    if send:
        from creditlake.report.delivery import send_report

        out.print(send_report(settings, month, path).reason)


@app.command()
def publish() -> None:
    """Copy the gold tables to the serving store (DuckDB file or PostgreSQL), atomically."""
    from creditlake.pipeline import stage_publish

    out.print_json(data=stage_publish())


@app.command("dbt-docs")
def dbt_docs() -> None:
    """Generate the dbt documentation site (models, columns, tests, lineage, exposures) from the lake's catalog."""
    from creditlake.dbt import run_dbt
    from creditlake.spark import get_spark

    settings = get_settings()
    done = _timed("dbt docs")
    run_dbt(get_spark(settings), settings, "docs generate")
    done(f"open {settings.home / 'dbt' / 'target' / 'index.html'} (or: uv run dbt docs serve --project-dir "
         f"dbt_project --profiles-dir dbt_project --target-path {settings.home / 'dbt' / 'target'})")


@app.command()
def jars() -> None:
    """Resolve the Spark/Delta jars into the Ivy cache (later starts need no network)."""
    from creditlake import jars as jar_list
    from creditlake.spark import get_spark

    done = _timed("jars")
    get_spark()
    done(", ".join(jar_list.PACKAGES) + f" in {get_settings().ivy_cache}")


@app.command()
def demo(
    enterprises: Annotated[int, typer.Option(help="Enterprises to generate.")] = 500,
    start: Month = "2024-01",
    end: Month = "2024-06",
) -> None:
    """The main job: generate data, run the monthly pipeline through Airflow, start Superset, say where to look."""
    from creditlake import airflow_runner
    from creditlake.generate import generate_landing
    from creditlake.superset import manage

    settings = get_settings()
    landing = settings.landing
    if not (landing / "samr" / "mediation_cases").is_dir():
        done = _timed("generate")  # every catalogued dataset: the profile shows all 42 sources
        generate_landing(landing, enterprises, start, end, seed=42, fault_rate=0.005, at_source=settings.at_source)
        done(f"{enterprises} enterprises, {start}..{end} -> {landing}")
    service = _start_spark_service(settings)
    done = _timed("airflow: creditlake_monthly")
    airflow_runner.run_dag_test("creditlake_monthly", {"landing": str(landing), "start": start, "end": end},
                            on_task=lambda task_id: console.print(f"  [cyan]→[/] task {task_id}"))
    done(f"(log: {settings.logs / 'dag-creditlake_monthly.log'})")
    done = _timed("superset")
    url = manage.start(settings)
    done(url)
    from creditlake.profile import service as profile_service
    from creditlake.profile.tokens import demo_tokens

    done = _timed("profile query service")
    api_url = profile_service.start(settings)
    tokens_file = demo_tokens(settings)
    done(api_url)
    report_path = settings.reports / f"creditlake-report-{end}.pdf"
    out.print()
    out.print("[bold]Where to look[/]")
    out.print(f"  Superset:  {url}/superset/dashboard/regional-development/  (login admin / "
              f"{settings.superset_admin_password}; analyst, policymaker, officer_520102 / "
              f"{settings.superset_demo_password})")
    from creditlake.superset.bundle import DASHBOARDS

    for dash in DASHBOARDS:
        out.print(f"             {dash.title}  {url}/superset/dashboard/{dash.slug}/")
    out.print(f"  Report:    {report_path}")
    documented = _best_documented(settings)
    out.print(f"  Lists:     creditlake lost-contact --district 520102   ·   creditlake profile {documented}")
    out.print(f"  API:       {api_url}/enterprises/{documented}  (OpenAPI {api_url}/docs; a token per role in "
              f"{tokens_file}: curl -H 'Authorization: Bearer <token>' ...; `creditlake api stop`)")
    if service is not None:
        out.print(f"  Spark:     {service.ui_url}  (the home's Spark service, {service.url}; `creditlake spark stop`)")
    out.print(f"  Lake:      {settings.lake}")
    out.print(f"  Serving:   {settings.serving}")
    out.print(f"  Logs:      {settings.logs}")


def _best_documented(settings) -> str:
    """The enterprise with records in the most sub-classes of the profile (the demo's example)."""
    from creditlake.serve.store import query

    rows = query(settings, "SELECT enterprise_id FROM profile_records GROUP BY 1"
                           " ORDER BY count(DISTINCT subclass_id) DESC, 1 LIMIT 1")
    return rows[0]["enterprise_id"] if rows else "<统一社会信用代码>"


def _start_spark_service(settings):
    """Start the home's Spark service unless settings say not to; return it (or None)."""
    from creditlake import spark_service

    if not settings.spark_service:
        return None
    done = _timed("spark service")
    service = spark_service.start(settings)
    done(f"{service.url} (UI {service.ui_url}; `creditlake spark stop` ends it)")
    return service


@superset_app.command("start")
def superset_start() -> None:
    """Configure Superset, import the dashboards and start it on 127.0.0.1 (idempotent)."""
    from creditlake.superset import manage

    out.print(manage.start(get_settings()))


@superset_app.command("stop")
def superset_stop() -> None:
    """Stop the Superset server started by `superset start`."""
    from creditlake.superset import manage

    manage.stop(get_settings())


@airflow_app.command("start")
def airflow_start() -> None:
    """Start the scheduler, DAG processor and API server on 127.0.0.1 (idempotent); print the UI and login."""
    from creditlake import airflow_services

    settings = get_settings()
    _start_spark_service(settings)
    done = _timed("airflow")
    pids = airflow_services.start(settings)
    done(", ".join(f"{k} pid {v}" for k, v in pids.items()))
    password = airflow_services.admin_password(settings) or "(see the api-server log)"
    out.print(f"Airflow UI: http://127.0.0.1:{settings.airflow_port}  (login admin / {password})")
    out.print(f"Logs: {settings.logs}/airflow-*.log")


@airflow_app.command("stop")
def airflow_stop() -> None:
    """Stop the Airflow services started by `airflow start` (and their running tasks)."""
    from creditlake import airflow_services

    stopped = airflow_services.stop(get_settings())
    out.print("stopped: " + (", ".join(stopped) or "nothing was running"))


@app.command()
def backfill(
    start: Month,
    end: Month,
    sources: Annotated[Optional[list[str]], typer.Option(
        "--sources", help="Only these sources (catalogue codes, repeatable).")] = None,
    landing: Annotated[Optional[Path], typer.Option(help="Landing folder (default: CREDITLAKE_HOME/landing).")] = None,
) -> None:
    """Backfill the months START..END through Airflow: a real backfill (one DAG run per month, in the metadata DB
    and the UI), run by the scheduler; shows progress and ends with one line per month. Airflow's services are
    started if they are not running (and left running: `creditlake airflow stop`)."""
    from creditlake import airflow_services
    from creditlake.airflow_runner import apply_env
    from creditlake.catalogue import default_catalogue
    from creditlake.periods import month_range

    settings = get_settings()
    months = month_range(start, end)
    known = {s.code for s in default_catalogue().sources}
    unknown = sorted(set(sources or []) - known)
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)} (see catalogue/)")
    if landing is not None and not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    apply_env(settings)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"  # Airflow's own info lines stay in its logs
    _start_spark_service(settings)
    done = _timed("airflow scheduler")
    airflow_services.start(settings)  # tasks need the API server (execution API) as well as the scheduler
    done()
    from creditlake.backfill import create, watch

    backfill_id, resumed = create(settings, start, end, landing, sources)
    console.print(f"[cyan]→[/] backfill {backfill_id}{' (resumed: it had not finished)' if resumed else ''}: "
                  f"{len(months)} month(s) {start}..{end} "
                  f"(Airflow UI: Browse > Backfills, after `creditlake airflow start`)")

    def show(runs) -> None:
        line = "  ".join(f"{r.month} {r.state} {r.tasks_done}/{r.tasks_total}" for r in runs)
        console.print(f"  [dim]{time.strftime('%H:%M:%S')}[/] {line}")

    from creditlake.backfill import cancel

    try:
        runs = watch(backfill_id, on_change=show)
    except KeyboardInterrupt:
        cancel(backfill_id)
        raise RuntimeError(f"backfill {backfill_id} cancelled (months already finished stay done)") from None
    for r in runs:
        took = f"{r.seconds:.0f} s" if r.seconds is not None else "-"
        colour = "green" if r.state == "success" else "yellow" if r.state == "skipped" else "red"
        out.print(f"[{colour}]{r.month}[/] {r.state:<8} tasks {r.tasks_done}/{r.tasks_total}  {took}"
                  + (f"  ({r.note})" if r.note else ""))
    if any(r.state == "failed" for r in runs):
        raise RuntimeError(f"backfill {backfill_id}: some months failed; see {settings.logs}/airflow and "
                           f"{settings.logs}/failures.jsonl")


@app.command("lost-contact")
def lost_contact(
    district: Annotated[Optional[str], typer.Option(help="Only this division (GB/T 2260 code, e.g. 520102 南明区).")] = None,
    csv_file: Annotated[Optional[Path], typer.Option("--csv", help="Also write the list to this CSV file (UTF-8).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to print (the CSV has them all).")] = 50,
) -> None:
    """Print the point-to-point list of lost-contact enterprises (失联企业名单), highest priority first."""
    from creditlake.analytics.lost_contact import COLUMNS, lost_contact_list, write_csv

    rows = lost_contact_list(get_settings(), district)
    shown = ("priority", "score", "enterprise_id", "enterprise_name", "district_name", "reasons_text",
             "follow_up_status")
    table = Table(title=f"失联企业名单（{len(rows)} 户）", show_lines=False)
    for key in shown:
        table.add_column(COLUMNS[key], overflow="fold")
    for row in rows[:limit]:
        table.add_row(*[str(row[k]) for k in shown])
    out.print(table)
    if len(rows) > limit:
        out.print(f"… 另有 {len(rows) - limit} 户（--limit 或 --csv 查看全部）")
    if csv_file:
        console.print(f"[green]✓[/] {len(rows)} rows written to {write_csv(rows, csv_file)}")


@app.command()
def profile(
    uscc: Annotated[str, typer.Argument(help="Unified social credit code (18 characters).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON (every sub-class).")] = False,
    role: Annotated[str, typer.Option(help="Read as: public, department or regulator.")] = "regulator",
    department: Annotated[str | None, typer.Option(
        help="For --role department: the department's source code in the catalogue (it reads its own data whole).")]
    = None,
    category: Annotated[str | None, typer.Option(
        "--class", help="Only this information class (a code such as judicial, or its Chinese name).")] = None,
    show_empty: Annotated[bool, typer.Option("--all", help="List the sub-classes without records too.")] = False,
    by: Annotated[str, typer.Option(help="Who is looking (a role or officer pseudonym), for the ledger.")] = "analyst",
    purpose: Annotated[str, typer.Option(help="Why (recorded in the ledger).")] = "信用核查",
) -> None:
    """Print one enterprise's panoramic profile (企业全景画像) in Chinese, by information class and sub-class."""
    from creditlake.catalogue import default_catalogue
    from creditlake.profile.lookup import Reader, category_code, enterprise_profile, record_lookup
    from creditlake.serve.store import query

    settings = get_settings()
    if category is not None:
        try:
            category = category_code(category)
        except KeyError:
            raise ValueError(f"没有名为“{category}”的信息大类") from None
    p = enterprise_profile(lambda sql, params: query(settings, sql, params), default_catalogue(), uscc,
                           Reader(role, department), category)
    record_lookup(settings, p.enterprise_id, by, purpose, role, [c["code"] for c in p.classes])
    if as_json:
        out.print_json(data=p.as_dict(), default=str)
        return
    out.print(f"[bold]{p.summary.get('企业名称')}[/]  {p.enterprise_id}")
    out.print("　".join(f"{k}：{_shown(v)}" for k, v in p.summary.items() if k != "企业名称" and v is not None))
    out.print(f"信息小类 {p.subclass_count()} 个，有记录 {p.populated()} 个（{role}）")
    for cls in p.classes:
        empty = [s["name"] for s in cls["subclasses"] if not s["records"]]
        out.print(f"\n[bold]{cls['name']}[/]")
        for sub in cls["subclasses"]:
            rows = sub["records"]
            if not rows:
                continue
            table = Table(title=f"{sub['name']}（{len(rows)}）　来源：{sub['source']}", title_justify="left")
            for i, heading in enumerate(rows[0]):  # the first column (a number, a date) never wraps
                table.add_column(heading, overflow="fold", no_wrap=i == 0)
            for row in rows:
                table.add_row(*[_shown(v) for v in row.values()])
            out.print(table)
        if empty:
            listed = "、".join(empty) if show_empty else f"{len(empty)} 个（--all 列出）"
            out.print(f"[dim]无记录的小类：{listed}[/]")


def _shown(value) -> str:
    """A value as the profile prints it: 是/否, numbers without trailing zeros, nothing for null."""
    from decimal import Decimal

    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (float, Decimal)):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


@app.command("serve-api")
def serve_api(
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1; default CREDITLAKE_API_PORT (8090).")] = None,
) -> None:
    """Run the enterprise profile query service in the foreground (OpenAPI docs at /docs); `api start` detaches it."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("creditlake.profile.api:app_from_settings", factory=True, host="127.0.0.1",
                port=port or settings.api_port, workers=settings.api_workers, log_level="warning",
                access_log=False)


@api_app.command("start")
def api_start() -> None:
    """Start the profile query service in the background (idempotent); print its URL."""
    from creditlake.profile import service

    url = service.start(get_settings())
    out.print(f"{url}/enterprises/<统一社会信用代码>  (OpenAPI: {url}/docs)")


@api_app.command("stop")
def api_stop() -> None:
    """Stop the profile query service started by `api start`."""
    from creditlake.profile import service

    out.print("stopped" if service.stop(get_settings()) else "nothing was running")


@api_app.command("status")
def api_status() -> None:
    """Whether the home's profile query service runs, and where."""
    from creditlake.profile import service

    state = service.running(get_settings())
    out.print("not running" if state is None else
              f"{state['url']}  pid {state['pid']}  up {time.time() - state['started_at']:.0f} s")


@api_app.command("issue-token")
def api_issue_token(
    holder: Annotated[str, typer.Option(help="Who holds it: a system or office, never a person's name.")],
    role: Annotated[str, typer.Option(help="public, department or regulator.")],
    department: Annotated[str | None, typer.Option(
        help="For the department role: its source code in the catalogue (e.g. finance).")] = None,
    purpose: Annotated[list[str] | None, typer.Option(
        help="A purpose the department may look for (repeat); default the common ones.")] = None,
) -> None:
    """Issue an access token (printed once: only its hash is kept, in home/keys)."""
    from creditlake.profile.tokens import issue

    out.print(issue(get_settings(), holder, role, department, purpose))


@api_app.command("tokens")
def api_tokens() -> None:
    """List who holds a token, in which role, for which purposes (never the tokens)."""
    from creditlake.profile.tokens import holders

    for h in holders(get_settings()):
        out.print(f"{h.holder}\t{h.role}\t{h.department or ''}\t{'、'.join(h.purposes)}\t{h.issued_at}")


@api_app.command("revoke-token")
def api_revoke_token(holder: Annotated[str, typer.Argument(help="The holder whose token ends.")]) -> None:
    """Revoke a holder's token (the running service refuses it at the next request)."""
    from creditlake.profile.tokens import revoke

    if not revoke(get_settings(), holder):
        raise ValueError(f"{holder!r} holds no token")
    out.print(f"revoked: {holder}")


@app.command()
def restricted(
    uscc: Annotated[str, typer.Argument(help="Unified social credit code of the enterprise.")],
    department: Annotated[str, typer.Option(
        help="The asking department: finance, procurement, housing, ndrc or sci.")],
    purpose: Annotated[str, typer.Option(help="What it is about to grant (recorded in the ledger).")] = "授予前核查",
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Joint discipline: must DEPARTMENT restrict grants to USCC? Answers with the grounds (联合惩戒核查)."""
    from creditlake.analytics.discipline import DEPARTMENTS, is_restricted, record_question

    settings = get_settings()
    answer = is_restricted(settings, uscc, department)
    record_question(settings, answer, purpose)
    if as_json:
        out.print_json(data=answer.as_dict(), default=str)
        return
    name = DEPARTMENTS[department]
    if not answer.restricted:
        out.print(f"{answer.enterprise_id}：{name}无须限制（未发现应由{name}落实的联合惩戒措施）。")
        return
    out.print(f"[bold red]{answer.enterprise_id}：{name}应当限制[/]（{len(answer.grounds)} 项依据）")
    for g in answer.grounds:
        out.print(f"  · {g['trigger_department_name']} {g['case_id']}（{g['shared_on']}）：{g['sanction']}")
        out.print(f"    措施：{g['measure']}；依据：{g['basis']}；落实期限：{g['deadline']}；状态：{g['status']}")


@cluster_app.command("start")
def cluster_start(
    workers: Annotated[int, typer.Option(min=1, help="Number of workers.")] = 2,
    cores: Annotated[int, typer.Option(min=1, help="Cores each worker offers.")] = 1,
    memory: Annotated[str, typer.Option(help="Memory each worker offers (executors fit in it), e.g. 1g.")] = "1g",
) -> None:
    """Start a master and workers on 127.0.0.1; print the master URL to put in CREDITLAKE_SPARK_MASTER."""
    from creditlake import cluster

    folder = get_settings().spark_cluster
    if (running := cluster.read(folder)) is not None:
        raise RuntimeError(f"a cluster is already recorded in {folder} ({running.master_url}); "
                           "`creditlake cluster stop` first")
    console.print(f"[cyan]→[/] starting a master and {workers} workers (logs in {folder})")
    started = cluster.start(folder, workers=workers, cores=cores, memory=memory)
    out.print(started.master_url)
    console.print(f"web UI {started.web_url}; run with CREDITLAKE_SPARK_MASTER={started.master_url}")


@cluster_app.command("status")
def cluster_status() -> None:
    """Print the recorded cluster's master URL and how many workers are alive."""
    from creditlake import cluster

    running = cluster.read(get_settings().spark_cluster)
    if running is None:
        raise RuntimeError("no cluster is recorded for this CREDITLAKE_HOME (`creditlake cluster start`)")
    out.print(f"{running.master_url} web {running.web_url} alive workers {running.alive_workers()}")


@cluster_app.command("stop")
def cluster_stop() -> None:
    """Stop the workers and the master that `creditlake cluster start` began."""
    from creditlake import cluster

    stopped = cluster.stop(get_settings().spark_cluster)
    out.print(f"stopped {stopped} processes")


@spark_app.command("start")
def spark_start() -> None:
    """Start the home's Spark service unless it runs (idempotent); print its URL. Every process of the home then
    uses it: no JVM start per command or Airflow task, one catalog."""
    from creditlake import spark_service

    settings = get_settings()
    done = _timed("spark service")
    service = spark_service.start(settings)
    done(f"pid {service.pid}, master {service.master}")
    out.print(service.url)
    console.print(f"web UI {service.ui_url}; log {service.log}")


@spark_app.command("status")
def spark_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the service's URL, uptime, client sessions and memory; exit 1 when none runs for this home."""
    from creditlake import spark_service

    service = spark_service.running(get_settings())
    if service is None:
        console.print("本库未运行 Spark 服务 (no Spark service runs for this CREDITLAKE_HOME): "
                      "`creditlake spark start`")
        raise typer.Exit(1)
    sessions = service.sessions()
    status = {"url": service.url, "ui": service.ui_url, "pid": service.pid, "master": service.master,
              "uptime_s": round(time.time() - service.started_at), "sessions": sessions[0] if sessions else None,
              "running_requests": sessions[1] if sessions else None, "memory_mib": service.memory_mib()}
    if as_json:
        out.print_json(json.dumps(status))
        return
    out.print(f"{status['url']}  pid {status['pid']}  master {status['master']}  up {status['uptime_s']} s  "
              f"sessions {status['sessions']}  running {status['running_requests']}  "
              f"memory {status['memory_mib'] or 0:.0f} MiB  UI {status['ui']}")


@spark_app.command("stop")
def spark_stop() -> None:
    """Stop the home's Spark service; processes then start Spark in-process again."""
    from creditlake import spark_service

    stopped = spark_service.stop(get_settings())
    out.print("stopped" if stopped else "nothing was running")


# Errors whose message is the whole story (ours name the file, rule or log to read); the traceback goes to the log.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, KeyError, RuntimeError)


def main() -> None:
    """Entry point: run the app; known user errors print one red line and exit 2."""
    from creditlake.dbt import DbtError
    from creditlake.quality.expectations import QualityError

    _setup_logging()
    try:
        app()
    except (*USER_ERRORS, DbtError, QualityError) as exc:
        logging.getLogger("creditlake").exception("command failed")
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        console.print(f"[bold red]error:[/] {message}")
        sys.exit(2)


if __name__ == "__main__":
    main()
