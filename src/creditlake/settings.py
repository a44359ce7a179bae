"""The one typed settings object: every path, URL and switch the lake uses, with environment overrides."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "creditlake"


def _default_ivy() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "creditlake" / "ivy"


class Settings(BaseSettings):
    """Settings, read from `CREDITLAKE_*` environment variables (see docs/configuration.md).

    All state lives under `home`; two runs with different homes never touch each other.
    The Ivy cache is shared on purpose: it holds only immutable, versioned jars.
    """

    model_config = SettingsConfigDict(env_prefix="CREDITLAKE_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Root of all state: lake, serving, logs, keys.")
    spark_master: str = Field("local[2]", description="Spark master URL, e.g. spark://127.0.0.1:7077.")
    spark_driver_memory: str = Field(
        "2g", description="Driver memory for local runs (and of the home's Spark service).")
    spark_service: bool = Field(
        True, description="`airflow start`, `backfill` and `demo` start the home's Spark service, which every process "
        "of the home then uses; false: they do not, and processes start Spark of their own unless `creditlake spark "
        "start` started one (docs/architecture.md).")
    shuffle_partitions: int = Field(4, description="spark.sql.shuffle.partitions; small for local mode.")
    dataset_threads: int = Field(
        3, ge=1, description="Datasets whose bronze or silver Spark work runs at once, in threads of one session: "
        "one dataset's driver-side work (Delta logs, planning, commits) overlaps another's tasks "
        "(docs/performance.md).")
    delta_optimize_write: bool = Field(
        False, description="Delta optimized writes: one shuffle before each write so a partition gets a few "
        "full-size files instead of one per task (docs/performance.md).")
    maven_repository: str = Field(
        "https://repo1.maven.org/maven2/", description="Maven repository the jars are resolved from (mirrors welcome)."
    )
    ivy_cache: Path = Field(default_factory=_default_ivy, description="Ivy cache the jars are resolved into.")
    serving_url: str | None = Field(
        None, description="SQLAlchemy URL of the serving database; default: a DuckDB file under home."
    )
    pseudonym_key_file: Path | None = Field(
        None, description="HMAC key for pseudonyms; default: home/keys/pseudonym.key (outside the lake)."
    )
    at_source_dir: Path | None = Field(
        None, description="Where departments keep the datasets that never enter the lake (residency: at_source) "
        "and where their responders read them; default: home/at_source (outside the lake). In production: a "
        "folder on the department's side, seen only by its responder.")
    airflow_home: Path | None = Field(None, description="AIRFLOW_HOME; default: home/airflow.")
    airflow_db_url: str | None = Field(
        None, description="Airflow's metadata DB (SQLAlchemy URL, e.g. postgresql+psycopg://u:p@127.0.0.1/db); "
        "default: SQLite under home/airflow, enough for `dag.test`; the scheduler and backfills want PostgreSQL.")
    catalogue_dir: Path = Field(REPO_ROOT / "catalogue", description="Folder of the source catalogue (one YAML per source).")
    superset_port: int = Field(8088, description="Port Superset listens on (127.0.0.1).")
    superset_workers: int = Field(
        1, ge=1, description="Superset's gunicorn worker processes (8 threads each); each costs ~400 MB and its own "
        "start-up: 1 on a 2-core box (docs/dashboards.md), more where many people use the dashboards.")
    superset_demo_password: str = Field(
        "creditlake-demo", description="Password of the demo users (analyst, policymaker, officer_<division>).")
    superset_demo_users: bool = Field(True, description="Create the demo users of each role at Superset start.")
    airflow_port: int = Field(8080, description="Port of Airflow's API server and UI (127.0.0.1).")
    api_port: int = Field(8090, description="Port of the enterprise profile query service (`creditlake api start`).")
    api_workers: int = Field(
        2, ge=1, description="Processes of the profile query service (uvicorn workers, each with its own store "
        "connections): 2 on a 2-core box answered 239 lookups/s against 151 with 1 (docs/profile.md).")
    airflow_parallelism: int = Field(2, description="Tasks Airflow's LocalExecutor runs at once (one JVM each).")
    run_deadline_minutes: float = Field(
        360, description="Deadline of a monthly DAG run, minutes after it was queued: a run still going then is "
        "recorded in home/logs/deadlines.jsonl (Airflow deadline alert); 0: no deadline (`dags test` runs).")
    superset_admin_password: str = Field("admin", description="Password of Superset's admin user `admin`.")
    smtp_host: str | None = Field(
        None, description="SMTP server the monthly report is mailed through; none: the report is written, not mailed.")
    smtp_port: int = Field(25, description="Port of the SMTP server.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS before logging in.")
    smtp_user: str | None = Field(None, description="SMTP login; none: no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never logged).")
    report_sender: str = Field("creditlake@localhost", description="From address of the report's mail.")
    report_recipients: dict[str, list[str]] = Field(
        default_factory=dict, description="Who receives the monthly report, per role (JSON), e.g. "
        '{"Policy maker": ["leader@example.gov.cn"]}: every address of every role listed gets the PDF.')

    # Derived locations: one place, so no module builds a path of its own.
    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def keys(self) -> Path:
        return self.home / "keys"

    @property
    def key_file(self) -> Path:
        return self.pseudonym_key_file or self.keys / "pseudonym.key"

    @property
    def at_source(self) -> Path:
        return self.at_source_dir or self.home / "at_source"

    @property
    def exchanges(self) -> Path:
        """Questions sent to at-source responders and their answers, kept for audit (outside the lake)."""
        return self.home / "exchanges"

    @property
    def serving_file(self) -> Path:
        return self.home / "serving" / "creditlake.duckdb"

    @property
    def published_marker(self) -> Path:
        """Touched by each publication (DuckDB or PostgreSQL): Superset's chart cache is keyed on it."""
        return self.home / "serving" / "published"

    @property
    def serving(self) -> str:
        return self.serving_url or f"duckdb:///{self.serving_file}"

    @property
    def airflow(self) -> Path:
        return self.airflow_home or self.home / "airflow"

    @property
    def superset_home(self) -> Path:
        return self.home / "superset"

    @property
    def spark_work(self) -> Path:
        return self.home / "spark"

    @property
    def spark_cluster(self) -> Path:
        """State and logs of a standalone cluster started by `creditlake cluster start`."""
        return self.home / "spark-cluster"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between runs)."""
    get_settings.cache_clear()
