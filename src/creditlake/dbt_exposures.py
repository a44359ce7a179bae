"""dbt exposures for what people see, generated from the dashboards as code and the report.

Each Superset dashboard (`creditlake.superset.bundle.DASHBOARDS`) and the monthly PDF report becomes a dbt exposure
that depends on the gold models it reads, so `dbt ls --select +exposure:risk_warnings` names everything upstream of
a dashboard and the generated dbt docs show who uses each mart. Regenerate after a dashboard change with
`python -m creditlake.dbt_exposures`; a test fails while the file is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from creditlake.settings import REPO_ROOT

EXPOSURES_FILE = REPO_ROOT / "dbt_project" / "models" / "_exposures.yml"
OWNER = {"name": "creditlake", "email": "creditlake@example.org"}
_MODEL = re.compile(r"\b((?:mart|fct)_[a-z0-9_]+)\b")


def dbt_models() -> set[str]:
    return {p.stem for p in (REPO_ROOT / "dbt_project" / "models").rglob("*.sql")}


def tables_read(dashboard) -> list[str]:
    """The dbt models a dashboard reads: its charts' and filters' datasets (physical tables and virtual SQL)."""
    from creditlake.superset.bundle import CHARTS

    datasets = [CHARTS[key].dataset for row in dashboard.rows for key, _w, _h in row
                if not key.startswith("md:") and key in CHARTS]
    datasets += [f.dataset for f in dashboard.filters]
    names = set()
    for ds in datasets:
        names.update(_MODEL.findall(ds.sql or ""))
        names.add(ds.table)
    if any(key == "power" for row in dashboard.rows for key, _w, _h in row):
        names.add("mart_district_power_monthly")  # the hand-written power chart's dataset
    return sorted(names & dbt_models())


def report_tables() -> list[str]:
    """The dbt models the monthly report reads: every model named in the report package's code."""
    code = "".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "src" / "creditlake" / "report").glob("*.py"))
    return sorted(set(_MODEL.findall(code)) & dbt_models())


def exposures_yaml() -> dict:
    from creditlake.superset.bundle import DASHBOARDS

    exposures = [{
        "name": dash.key, "label": dash.title, "type": "dashboard", "maturity": "high",
        "url": f"http://127.0.0.1:8088/superset/dashboard/{dash.slug}/",
        "description": dash.description, "owner": OWNER,
        "depends_on": [f"ref('{t}')" for t in tables_read(dash)],
    } for dash in DASHBOARDS]
    exposures.append({
        "name": "monthly_report", "label": "月度企业信用监管报告", "type": "analysis", "maturity": "high",
        "description": "The monthly PDF report for policy makers (creditlake report --month YYYY-MM).",
        "owner": OWNER, "depends_on": [f"ref('{t}')" for t in report_tables()],
    })
    return {"version": 2, "exposures": exposures}


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True


def render() -> str:
    header = "# Generated from the dashboards and the report by `python -m creditlake.dbt_exposures`: do not edit.\n"
    return header + yaml.dump(exposures_yaml(), Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=120)


def write_exposures(path: Path = EXPOSURES_FILE) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_exposures())
