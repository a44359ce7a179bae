"""The `creditlake` command line: thin verbs over the package; user errors end in one red line and exit code 2."""

from __future__ import annotations

import json
import logging
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

# What `demo` generates and runs: the datasets the gold marts use so far.
SLICE_DATASETS = ("samr/registrations", "power/consumption")

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
) -> None:
    """Generate a synthetic landing zone (deliveries + manifests) with planted truth beside it."""
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
                                   delivery_fault_rate=delivery_fault_rate)
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
    done = _timed("bronze")
    bronze = stage_ingest(landing, periods, sources)
    done(f"{len(bronze)} deliveries")
    done = _timed("silver")
    silver = stage_silver(periods, sources)
    done(f"{sum(r['loaded'] for r in silver)} rows loaded, {sum(r['quarantined'] for r in silver)} quarantined")
    for r in bronze:
        if r["status"] == "rejected":
            console.print(f"[red]rejected[/] {r['reason']}")
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
) -> None:
    """Run every stage in-process, in order: ingest, silver, quality, gold (dbt), publish, report."""
    from creditlake.pipeline import run_all

    state = {"t": time.monotonic(), "name": None}

    def on_stage(name: str) -> None:
        if state["name"]:
            console.print(f"[green]✓[/] {state['name']} [dim]({time.monotonic() - state['t']:.1f} s)[/]")
        state.update(t=time.monotonic(), name=name)
        console.print(f"[cyan]→[/] {name}")

    summary = run_all(landing, start, end, on_stage=on_stage)
    on_stage("")
    out.print(f"report: {summary['report']}")
    out.print(f"serving: {get_settings().serving}")


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


@app.command()
def report(
    month: Month,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="PDF path (default: home/reports/).")] = None,
) -> None:
    """Render the monthly Chinese PDF report for policy makers from the serving store."""
    from creditlake.report.monthly import render_monthly_report

    path = render_monthly_report(get_settings(), month, out_file)
    out.print(str(path))


@app.command()
def publish() -> None:
    """Copy the gold tables to the serving store (DuckDB file or PostgreSQL), atomically."""
    from creditlake.pipeline import stage_publish

    out.print_json(data=stage_publish())


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
    if not (landing / "samr").is_dir():
        done = _timed("generate")
        generate_landing(landing, enterprises, start, end, seed=42, fault_rate=0.005, only=list(SLICE_DATASETS))
        done(f"{enterprises} enterprises, {start}..{end} -> {landing}")
    done = _timed("airflow: creditlake_monthly")
    airflow_runner.run_dag_test("creditlake_monthly", {"landing": str(landing), "start": start, "end": end},
                            on_task=lambda task_id: console.print(f"  [cyan]→[/] task {task_id}"))
    done(f"(log: {settings.logs / 'dag-creditlake_monthly.log'})")
    done = _timed("superset")
    url = manage.start(settings)
    done(url)
    report_path = settings.reports / f"creditlake-report-{end}.pdf"
    out.print()
    out.print("[bold]Where to look[/]")
    out.print(f"  Superset:  {url}/superset/dashboard/power-overview/  (login admin / {settings.superset_admin_password})")
    out.print(f"  Report:    {report_path}")
    out.print(f"  Lake:      {settings.lake}")
    out.print(f"  Serving:   {settings.serving}")
    out.print(f"  Logs:      {settings.logs}")


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
