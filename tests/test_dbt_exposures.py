"""dbt exposures are generated from the dashboards as code and the report: a stale file would hide a mart's users."""

from creditlake.dbt_exposures import EXPOSURES_FILE, dbt_models, exposures_yaml, render


def test_dbt_exposures_are_in_sync_with_the_dashboards():
    assert EXPOSURES_FILE.read_text(encoding="utf-8") == render(), (
        "run `uv run python -m creditlake.dbt_exposures` to regenerate dbt_project/models/_exposures.yml")


def test_every_exposure_reads_real_models_and_the_main_marts_have_users():
    exposures = exposures_yaml()["exposures"]
    used = {ref[5:-2] for e in exposures for ref in e["depends_on"]}
    assert all(e["depends_on"] for e in exposures)
    assert used <= dbt_models()
    assert {"mart_lost_contact", "mart_warnings", "mart_enterprise_profile"} <= used
    assert {e["name"] for e in exposures} >= {"lost_contact", "risk_warnings", "monthly_report"}
