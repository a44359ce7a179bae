"""Runs INSIDE .venv-superset (never imported by the pipeline): import the bundle, then set up roles, RLS, users.

    .venv-superset/bin/python superset_side.py BUNDLE.zip ADMIN_USER < access.json

One Superset app start (~7 s on a 2-core box) for all of it. Everything is idempotent: objects are found by uuid
or by name and overwritten, never added twice. `access.json` (from creditlake.superset.manage.access_spec, given on
stdin so no password shows in `ps`) says which roles to make, their row-level security and the demo users.

Why not `superset import-dashboards`: in 6.1 it overwrites only the dashboard and keeps any existing database,
dataset and chart with the same uuid unchanged, so edits to the YAML (or a new serving URL) would never reach
Superset. ImportAssetsCommand (the code behind POST /api/v1/assets/import/, "for managing Superset assets
externally under source control") overwrites every object by uuid.
"""

from __future__ import annotations

import json
import sys
from zipfile import ZipFile


def import_bundle(bundle_path: str, admin: str) -> int:
    from superset import security_manager
    from superset.commands.exceptions import CommandInvalidError
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    from superset.utils.core import override_user

    user = security_manager.find_user(username=admin)
    if user is None:
        sys.exit(f"no Superset user {admin!r}: run init first")
    with ZipFile(bundle_path) as bundle:
        contents = get_contents_from_bundle(bundle)
    try:
        with override_user(user):
            ImportAssetsCommand(contents).run()
    except CommandInvalidError as ex:
        sys.exit(f"invalid bundle: {ex.normalized_messages()}")
    return len(contents)


def fix_filter_scopes(dashboard_uuids: list[str]) -> None:
    """Fill `chartsInScope` of native filters and cross-filters from their scope, with the imported chart ids.

    The 6.1 importer rewrites chart ids in the layout and in `scope.excluded` but not in `chartsInScope`, which the
    frontend reads to decide which charts a filter applies to (apache/superset#26338, fixed after 6.1). The bundle
    leaves it empty; here it becomes "every chart on the dashboard but the excluded ones".
    """
    from superset import db
    from superset.models.dashboard import Dashboard

    for dashboard in db.session.query(Dashboard).filter(Dashboard.uuid.in_(dashboard_uuids)):
        position = json.loads(dashboard.position_json or "{}")
        chart_ids = [c["meta"]["chartId"] for c in position.values()
                     if isinstance(c, dict) and c.get("type") == "CHART"]
        meta = json.loads(dashboard.json_metadata or "{}")
        for flt in meta.get("native_filter_configuration", []):
            excluded = set(flt.get("scope", {}).get("excluded", []))
            flt["chartsInScope"] = [i for i in chart_ids if i not in excluded]
        if meta.get("cross_filters_enabled"):
            glob = meta.setdefault("global_chart_configuration", {})
            glob.setdefault("scope", {"rootPath": ["ROOT_ID"], "excluded": []})
            excluded = set(glob["scope"].get("excluded", []))
            in_scope = [i for i in chart_ids if i not in excluded]
            glob["chartsInScope"] = in_scope
            meta["chart_configuration"] = {
                str(i): {"id": i, "crossFilters": {"scope": "global",
                                                   "chartsInScope": [j for j in in_scope if j != i]}}
                for i in chart_ids
            }
        dashboard.json_metadata = json.dumps(meta)
    db.session.commit()


def fix_query_contexts(chart_uuids: list[str]) -> int:
    """Point each imported chart's saved query at its dataset's id (the bundle cannot know it; the 6.1 importer
    leaves `query_context` as it is), so GET /api/v1/chart/{id}/data/ answers. Returns how many were fixed."""
    from superset import db
    from superset.models.slice import Slice

    fixed = 0
    for chart in db.session.query(Slice).filter(Slice.uuid.in_(chart_uuids)):
        if not chart.query_context:
            continue
        context = json.loads(chart.query_context)
        context["datasource"] = {"id": chart.datasource_id, "type": chart.datasource_type}
        context["form_data"] = {**context.get("form_data", {}), "slice_id": chart.id,
                                "datasource": f"{chart.datasource_id}__{chart.datasource_type}"}
        chart.query_context = json.dumps(context, ensure_ascii=False)
        fixed += 1
    db.session.commit()
    return fixed


def prune_removed(spec: dict) -> list[str]:
    """Delete the dashboards, charts and datasets an earlier bundle made (managed externally) that this bundle no
    longer has, so an upgrade leaves no orphan behind; a dataset still used by someone's own chart stays."""
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    gone = []
    for model, keep in ((Dashboard, spec["dashboards"]), (Slice, spec["charts"]), (SqlaTable, spec["datasets"])):
        for obj in db.session.query(model).filter(model.is_managed_externally.is_(True), ~model.uuid.in_(keep)):
            if model is SqlaTable and db.session.query(Slice).filter(Slice.datasource_id == obj.id,
                                                                     Slice.datasource_type == "table").count():
                continue
            name = getattr(obj, "dashboard_title", None) or getattr(obj, "slice_name", None) or obj.table_name
            gone.append(f"{model.__name__} {name}")
            db.session.delete(obj)
            db.session.flush()
    db.session.commit()
    return gone


def _pvms(sm, pairs, missing: list[str]):
    found = []
    for perm, view in sorted(pairs):
        pvm = sm.find_permission_view_menu(perm, view)
        if pvm is None:
            missing.append(f"{perm} on {view}")
        else:
            found.append(pvm)
    return found


def setup_access(spec: dict) -> list[str]:
    """Roles, their dataset access and row-level security, and the demo users; return a log of what it did."""
    from superset import db, security_manager as sm
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.utils.core import RowLevelSecurityFilterType

    log: list[str] = []
    missing: list[str] = []
    datasets = {str(t.uuid): t for t in db.session.query(SqlaTable).filter(
        SqlaTable.uuid.in_(spec["datasets"]))}
    absent = sorted(set(spec["datasets"]) - set(datasets))
    if absent:
        sys.exit(f"datasets missing after the import: {absent}")

    def data_access(uuids):
        pvms = []
        for uuid in uuids:
            table = datasets[uuid]
            pvm = sm.add_permission_view_menu("datasource_access", table.get_perm())
            pvms.append(pvm)
        return pvms

    # Read-only viewing of dashboards: Superset's own minimal set for (anonymous) dashboard viewers, which we never
    # give to Public, plus what a logged-in user needs (menu, language pack, own profile, share links).
    viewer = set(sm.PUBLIC_ROLE_PERMISSIONS) | {tuple(p) for p in spec["viewer_extra"]}
    gamma = sm.find_role("Gamma")
    if gamma is None:
        sys.exit("no Gamma role: run `superset init` first")

    roles = {}
    for role_spec in spec["roles"]:
        role = sm.add_role(role_spec["name"])  # returns the existing role when there is one
        extra = {tuple(p) for p in role_spec.get("extra", [])}
        if role_spec["base"] == "gamma":
            # Superset's Gamma (explore, build and save own charts and dashboards, CSV), never SQL Lab.
            pvms = list(gamma.permissions)
            pvms += [p for p in _pvms(sm, extra, missing) if p not in pvms]
        else:
            pvms = _pvms(sm, viewer | extra, missing)
        role.permissions = pvms + data_access(role_spec["datasets"])
        roles[role_spec["name"]] = role
        log.append(f"role {role.name}: {len(role.permissions)} permissions")

    # Row-level security: a Regular filter per district, on every dataset with a district_code column, for that
    # district's officer role. One group key for all of them: a user holding two district roles sees both (OR).
    for rls in spec["rls"]:
        flt = db.session.query(RowLevelSecurityFilter).filter_by(name=rls["name"]).one_or_none()
        if flt is None:
            flt = RowLevelSecurityFilter(name=rls["name"])
            db.session.add(flt)
        flt.description = rls["description"]
        flt.filter_type = RowLevelSecurityFilterType.REGULAR.value
        flt.group_key = rls["group_key"]
        flt.clause = rls["clause"]
        flt.roles = [roles[rls["role"]]]
        flt.tables = [datasets[u] for u in rls["datasets"]]
        log.append(f"row-level security {rls['name']}: {rls['clause']} on {len(flt.tables)} datasets")

    for user_spec in spec["users"]:
        role = roles[user_spec["role"]]
        user = sm.find_user(username=user_spec["username"])
        if user is None:
            user = sm.add_user(user_spec["username"], user_spec["first_name"], user_spec["last_name"],
                               user_spec["email"], [role], password=user_spec["password"])
            if not user:
                sys.exit(f"could not create user {user_spec['username']!r}")
            log.append(f"user {user_spec['username']} created ({role.name})")
        else:
            # The password stays as it is (it may have been changed); the role is put back.
            user.roles = [role]
            user.active = True
            log.append(f"user {user_spec['username']} kept ({role.name})")
    db.session.commit()
    if missing:
        log.append("permissions not found in this Superset (skipped): " + ", ".join(sorted(set(missing))))
    return log


def main() -> None:
    bundle_path, admin = sys.argv[1], sys.argv[2]
    spec = json.load(sys.stdin)

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        count = import_bundle(bundle_path, admin)
        print(f"imported {count} files from {bundle_path}")
        fix_filter_scopes(spec["dashboards"])
        print(f"saved queries of {fix_query_contexts(spec['charts'])} charts pointed at their datasets")
        for line in prune_removed(spec):
            print(f"removed (no longer in the bundle): {line}")
        if spec.get("roles"):
            for line in setup_access(spec):
                print(line)


if __name__ == "__main__":
    main()
