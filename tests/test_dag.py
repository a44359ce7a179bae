"""The DAG folder imports cleanly and every task has an owner, retries and the DAG's tags."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_dagbag_imports_without_errors(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.get_dag("creditlake_monthly")
    assert dag is not None and "creditlake" in dag.tags
    assert [t.task_id for t in dag.topological_sort()] == [
        "plan", "ingest", "silver", "secret_query", "quality", "gold", "publish", "report"]
    for t in dag.tasks:
        assert t.owner == "creditlake" and t.retries >= 1 and t.doc_md, t.task_id
        assert t.execution_timeout is not None and t.on_failure_callback, t.task_id
    assert "Mapped" in type(dag.get_task("ingest")).__name__  # one task per source
    assert dag.doc_md and "月度" in dag.doc_md


def test_dag_file_holds_no_business_logic():
    text = (REPO / "dags" / "creditlake_monthly.py").read_text(encoding="utf-8")
    for forbidden in ("pyspark", "spark.sql", "duckdb", "select "):
        assert forbidden not in text.lower()
