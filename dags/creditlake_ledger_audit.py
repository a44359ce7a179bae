"""
### creditlake_ledger_audit — 账本校验 (ledger audit after each publication)

Runs whenever the monthly pipeline publishes to the serving store (Airflow Asset `creditlake://serving`): it
recomputes every leaf and the Merkle root of the tamper-evident ledger from storage and checks every signed
checkpoint, as a third party would (`creditlake ledger verify`). A changed, deleted, inserted or reordered entry,
or a rolled-back log, fails the task with the first bad position, and the failure callback records it.

每次月度流水线发布到服务库后自动运行：从存储重新计算账本的全部叶子哈希与默克尔根，逐一核验已签名检查点；
发现篡改、删除、插入、重排或回滚即失败，并指出第一个出错的位置。

The task calls one function of `creditlake.pipeline`; there is no business logic here.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from creditlake.orchestration import SERVING_ASSET, default_args


@dag(
    dag_id="creditlake_ledger_audit",
    schedule=[Asset(SERVING_ASSET)],
    start_date=pendulum.datetime(2015, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["creditlake", "ledger"],
    doc_md=__doc__,
)
def creditlake_ledger_audit():
    @task(doc_md="Recompute the ledger and check every signed checkpoint. 重算账本并核验全部签名检查点。")
    def verify() -> dict:
        from creditlake.pipeline import audit_ledger

        return audit_ledger()

    verify()


creditlake_ledger_audit()
