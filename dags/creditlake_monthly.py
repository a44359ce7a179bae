"""
### creditlake_monthly — 企业信用月度流水线 (monthly enterprise-credit pipeline)

Ingests one month of departmental and utility deliveries (by default the month of the run's data interval;
params `start`/`end` widen it, `sources` narrows it), one mapped task per source so one bad department blocks
no other; then builds silver with quarantine and accounting, asks the datasets kept at their source for derived
flags (secret data is never copied), checks silver with Great Expectations, builds gold with dbt (one task per
layer of the dbt project: staging, facts, intermediate, marts), publishes to the serving store (recording every
share in the ledger), renders the monthly report and brings the dashboards' month filters up to the new month.
`creditlake backfill --start YYYY-MM --end YYYY-MM` backfills any range of months through this DAG.

每月处理各部门及水电气金融企业报送数据：按来源部门并行入湖（铜层），清洗校验（银层，隔离与核算）、
涉密数据不出域核验（仅取回标志）、质量检查、
dbt 按分层构建金层、发布到服务库（共享记录写入账本）、生成月度报告、更新看板默认月份。任意月份区间可用 `creditlake backfill` 补跑。

Every task calls one function of `creditlake.pipeline`; there is no business logic here.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task, task_group
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference, SyncCallback

from creditlake.dbt import LAYER_DOCS, LAYERS
from creditlake.orchestration import (
    GOLD_ASSET, SERVING_ASSET, SILVER_ASSET, default_args, record_deadline_missed,
)
from creditlake.settings import get_settings

SILVER, GOLD = Asset(SILVER_ASSET), Asset(GOLD_ASSET)
SERVING = Asset(SERVING_ASSET)  # each publication triggers creditlake_ledger_audit

def _window():
    from creditlake.orchestration import run_window

    ctx = get_current_context()
    return run_window(ctx["params"], ctx.get("data_interval_start"))


@dag(
    dag_id="creditlake_monthly",
    schedule="@monthly",
    start_date=pendulum.datetime(2015, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=2,  # one JVM per running task: two fit a laptop; raise it on a cluster
    default_args=default_args(),
    # A run still going this long after it was queued is late: the executor records it (logs/deadlines.jsonl).
    # 0 minutes: no deadline (`dag.test` runs, which Airflow 3.3 cannot combine with a deadline alert).
    deadline=DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT,
                           interval=timedelta(minutes=get_settings().run_deadline_minutes),
                           callback=SyncCallback(record_deadline_missed))
    if get_settings().run_deadline_minutes > 0 else None,
    tags=["creditlake", "monthly"],
    doc_md=__doc__,
    params={
        "landing": Param(None, type=["null", "string"], description="Landing folder (default: CREDITLAKE_HOME/landing)"),
        "start": Param(None, type=["null", "string"], description="First month, YYYY-MM"),
        "end": Param(None, type=["null", "string"], description="Last month, YYYY-MM"),
        "sources": Param(None, type=["null", "array"], description="Only these sources (catalogue codes)"),
    },
)
def creditlake_monthly():
    @task(doc_md="The sources with deliveries in the run's months. 本次应入湖的来源部门。")
    def plan() -> list[str]:
        from creditlake.orchestration import sources_delivered

        landing, periods = _window()
        return sources_delivered(landing, periods, get_current_context()["params"].get("sources"))

    @task(doc_md="Landing -> bronze for one source: manifest checks, pseudonyms, lineage. 按部门入湖（铜层）。",
          map_index_template="{{ task.op_kwargs['source'] }}")
    def ingest(source: str) -> list[dict]:
        from creditlake.pipeline import stage_ingest

        landing, periods = _window()
        return stage_ingest(landing, periods, sources=[source])

    @task(outlets=[SILVER], doc_md="Bronze -> silver with quarantine and accounting. 清洗校验（银层）。")
    def silver(_bronze) -> list[dict]:
        from creditlake.pipeline import stage_silver

        return stage_silver(_window()[1], sources=get_current_context()["params"].get("sources"))

    @task(doc_md="Ask the datasets kept at their source (secret, never copied) for derived flags; hashes to the "
                 "ledger. 数据不出域：向部门发起核验问询，仅取回标志。")
    def secret_query(_silver) -> list[dict]:
        from creditlake.pipeline import stage_secret_queries

        return stage_secret_queries(_window()[1], sources=get_current_context()["params"].get("sources"))

    @task(doc_md="Great Expectations suites on the new silver months. 质量检查。")
    def quality(_silver) -> list[dict]:
        from creditlake.pipeline import stage_quality

        return stage_quality(_window()[1], sources=get_current_context()["params"].get("sources"))

    def gold_layer(layer: str):
        @task(task_id=layer, outlets=[GOLD] if layer == list(LAYERS)[-1] else [], doc_md=LAYER_DOCS[layer])
        def build(_upstream) -> dict:
            from creditlake.pipeline import stage_gold

            return stage_gold(recompute_from=_window()[1][0], layer=layer)

        return build

    @task_group(tooltip="dbt build, one task per layer of the dbt project. 金层构建：按 dbt 分层逐个任务。")
    def gold(_quality):
        """dbt build, one task per layer of the dbt project (creditlake.dbt.LAYERS), each after the one before;
        incremental marts recompute the run's months and later ones.
        金层构建：按 dbt 分层逐个任务；增量模型只重算本次月份及以后。"""
        built = _quality
        for layer in LAYERS:
            built = gold_layer(layer)(built)
        return built

    @task(outlets=[SERVING], doc_md="Gold -> serving store, atomic swap. 发布到服务库。")
    def publish(_gold) -> dict:
        from creditlake.pipeline import stage_publish

        return stage_publish()

    @task(doc_md="Monthly PDF report for policy makers. 月度报告。")
    def report(_published) -> str:
        from creditlake.pipeline import stage_report

        return stage_report(_window()[1][-1])

    @task(doc_md="Superset dashboards brought up to the publication: each 月份 filter defaults to the latest month "
                 "(nothing when Superset is not set up here). 看板默认月份更新为最新发布月份。")
    def dashboards(_published) -> dict:
        from creditlake.pipeline import stage_dashboards

        return stage_dashboards()

    published = publish(gold(quality(secret_query(silver(ingest.expand(source=plan()))))))
    report(published)
    dashboards(published)


creditlake_monthly()
