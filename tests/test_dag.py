"""The DAG folder imports cleanly, every task has an owner, retries and the DAG's tags, and the DAGs are linked by
Airflow Assets: a publication by the monthly DAG triggers the ledger audit."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_dagbag_imports_without_errors(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.get_dag("creditlake_monthly")
    assert dag is not None and "creditlake" in dag.tags
    assert [t.task_id for t in dag.topological_sort()] == [
        "plan", "ingest", "silver", "secret_query", "quality",
        "gold.staging", "gold.facts", "gold.intermediate", "gold.marts",  # one task per layer of the dbt project
        "publish", "report", "dashboards"]
    assert [a.uri.rstrip("/") for a in dag.get_task("gold.marts").outlets] == ["creditlake://gold"]
    assert "Mapped" in type(dag.get_task("ingest")).__name__  # one task per source
    assert dag.doc_md and "月度" in dag.doc_md
    audit = bag.get_dag("creditlake_ledger_audit")
    assert set(bag.dag_ids) == {"creditlake_monthly", "creditlake_ledger_audit"}
    for d in (dag, audit):
        assert "creditlake" in d.tags and d.doc_md
        for t in d.tasks:
            assert t.owner == "creditlake" and t.retries >= 1 and t.doc_md, t.task_id
            assert t.execution_timeout is not None and t.on_failure_callback, t.task_id


def test_publication_triggers_the_ledger_audit(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    publish = bag.get_dag("creditlake_monthly").get_task("publish")
    published = {a.uri for a in publish.outlets}
    audit = bag.get_dag("creditlake_ledger_audit")
    assert {a.uri for a in audit.timetable.asset_condition.objects} == published


def test_ledger_audit_dag_verifies_what_the_pipeline_wrote(pipeline_run):
    from airflow.dag_processing.dagbag import DagBag

    run = DagBag(dag_folder=str(REPO / "dags")).get_dag("creditlake_ledger_audit").test()
    assert str(run.state) == "success"


def test_dag_files_hold_no_business_logic():
    for path in (REPO / "dags").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("pyspark", "spark.sql", "duckdb", "select ", "hashlib"):
            assert forbidden not in text.lower(), path.name


def test_a_dead_schedulers_callbacks_are_handed_to_the_next_one(airflow_db, settings):
    """A deadline alert the killed scheduler's executor had taken (queued or running) goes back to pending for the
    next scheduler (Airflow adopts a dead scheduler's tasks, not its callbacks); a finished one stays finished."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import delete, insert, select

    from airflow.models.callback import Callback
    from airflow.utils.session import create_session

    from creditlake.airflow_services import requeue_orphaned_callbacks

    ids = {state: uuid.uuid4() for state in ("queued", "running", "success")}
    with create_session() as session:
        for state, id_ in ids.items():
            session.execute(insert(Callback.__table__).values(
                id=id_, type="executor", fetch_method="import_path", data={}, state=state, priority_weight=1,
                created_at=datetime.now(timezone.utc)))
    try:
        assert requeue_orphaned_callbacks(settings) >= 2
        with create_session() as session:
            states = dict(session.execute(
                select(Callback.id, Callback.state).where(Callback.id.in_(ids.values()))).all())
        assert {s: states[i] for s, i in ids.items()} == {
            "queued": "pending", "running": "pending", "success": "success"}
    finally:
        with create_session() as session:
            session.execute(delete(Callback).where(Callback.id.in_(ids.values())))
