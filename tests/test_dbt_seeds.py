"""dbt seeds are reloaded only when a seed file changed (or a seed table is missing): `seeds_loaded`."""

from __future__ import annotations

import shutil

import pytest

from creditlake import dbt
from creditlake.settings import Settings


@pytest.fixture
def project(tmp_path, monkeypatch):
    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt.DBT_PROJECT / "seeds", copy / "seeds")
    shutil.copy(dbt.DBT_PROJECT / "dbt_project.yml", copy / "dbt_project.yml")
    monkeypatch.setattr(dbt, "DBT_PROJECT", copy)
    return copy


def _load_seeds(settings: Settings, project) -> None:
    """What a full `dbt build` leaves: each seed a Delta table in silver, and the digest it was loaded from."""
    for csv in (project / "seeds").glob("*.csv"):
        (settings.lake / "silver" / csv.stem / "_delta_log").mkdir(parents=True)
    dbt._seeds_marker(settings).write_text(dbt.seeds_digest() + "\n")


def test_seeds_are_skipped_only_while_files_and_tables_are_as_loaded(tmp_path, project):
    settings = Settings(home=tmp_path / "home")
    (settings.lake / "silver").mkdir(parents=True)
    assert not dbt.seeds_loaded(settings)  # a new lake: load them

    _load_seeds(settings, project)
    assert dbt.seeds_loaded(settings)

    calendar = project / "seeds" / "cn_working_calendar.csv"
    next_year = "2031-01-01,holiday,元旦,国务院办公厅关于2031年部分节假日安排的通知\n"  # next year's calendar arrives
    calendar.write_text(calendar.read_text() + next_year)
    assert not dbt.seeds_loaded(settings)

    dbt._seeds_marker(settings).write_text(dbt.seeds_digest() + "\n")
    assert dbt.seeds_loaded(settings)
    shutil.rmtree(settings.lake / "silver" / "licensed_industries")  # a table dropped by hand
    assert not dbt.seeds_loaded(settings)


def test_the_digest_follows_every_seed_file_and_the_project_file(project):
    before = dbt.seeds_digest()
    (project / "seeds" / "_seeds.yml").write_text((project / "seeds" / "_seeds.yml").read_text() + "\n# edited\n")
    after_yml = dbt.seeds_digest()
    (project / "dbt_project.yml").write_text((project / "dbt_project.yml").read_text() + "\n# edited\n")
    assert len({before, after_yml, dbt.seeds_digest()}) == 3
