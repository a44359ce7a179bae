"""Runs INSIDE Superset (never imported by the pipeline): the generated superset_config.py makes `mutate_app` its
FLASK_APP_MUTATOR. What a person reads and downloads, put right without patching Superset's files:

- Exports (CSV and Excel of any chart): cell text without HTML (the 企业名称 links of the lists become the name),
  CSV in UTF-8 with a byte-order mark (Excel on Chinese Windows reads it as UTF-8, not GBK), and a Chinese file name
  saying the chart and the month, e.g. 失联企业点对点核查名单_2024-06.csv.
- The Chinese language pack with the project's corrections (dashboards/zh_overrides.json): Superset 6.1's zh pack
  says "异常" (anomaly) for records, "序列" for entries, and leaves some tooltips in English.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

BOM = "\ufeff"
LANGUAGE_PACK_PATH = "/superset/language_pack/zh/"
MONTH_COLUMNS = ("month", "as_of_month")
_TAG = re.compile(r"<[^>]*>")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\r\n\t]+')


def plain_text(value: Any) -> Any:
    """A cell as a person reads it: '<a href="...">贵州甲有限公司</a>' -> '贵州甲有限公司'; anything else unchanged."""
    if isinstance(value, str) and "<" in value:
        return html.unescape(_TAG.sub("", value))
    return value


def plain_frame(df):
    """The frame with HTML taken out of every text column (a copy)."""
    df = df.copy()
    for name in df.columns:
        if df[name].dtype == object:
            df[name] = df[name].map(plain_text)
    return df


def export_file_name(title: str, month: str | None, extension: str) -> str:
    """'失联企业点对点核查名单_2024-06.csv'; '…_全部月份.csv' when the export is not for one month."""
    return f"{_UNSAFE_IN_NAME.sub('_', title).strip() or '导出数据'}_{month or '全部月份'}.{extension}"


def content_disposition(name: str) -> str:
    """An attachment header with the UTF-8 name (RFC 6266 / 5987) and an ASCII fallback for old clients."""
    fallback = "export." + name.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def export_month(payload: dict[str, Any]) -> str | None:
    """The one month a chart-data request is filtered to (a 月份 filter), or None."""
    for query in payload.get("queries") or []:
        for flt in query.get("filters") or []:
            values = flt.get("val")
            values = values if isinstance(values, list) else [values]
            if flt.get("col") in MONTH_COLUMNS and flt.get("op") in ("IN", "==") and len(values) == 1:
                return str(values[0])
    return None


def patched_language_pack(pack: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """The Jed language pack with each msgid in `overrides` translated anew (a copy)."""
    pack = copy.deepcopy(pack)
    messages = pack["locale_data"]["superset"]
    for msgid, text in overrides.items():
        messages[msgid] = [text]
    return pack


def _request_payload(request) -> dict[str, Any]:
    """The chart-data request's body: a `form_data` form field (the frontend's download form) or JSON (the API)."""
    if "form_data" in request.form:
        try:
            return json.loads(request.form["form_data"])
        except ValueError:
            return {}
    return request.get_json(silent=True) or {}


def mutate_app(app) -> None:
    from flask import Response, request
    from flask_login import current_user

    from superset.translations.utils import get_language_pack
    from superset.utils import csv as csv_utils, excel as excel_utils

    to_csv, to_excel = csv_utils.df_to_escaped_csv, excel_utils.df_to_excel

    def df_to_escaped_csv(df, **kwargs):
        out = to_csv(plain_frame(df), **kwargs)
        return BOM + out if isinstance(out, str) and not out.startswith(BOM) else out

    def df_to_excel(df, **kwargs):
        return to_excel(plain_frame(df), **kwargs)

    csv_utils.df_to_escaped_csv, excel_utils.df_to_excel = df_to_escaped_csv, df_to_excel

    overrides = json.loads(Path(app.config["ZH_LANGUAGE_PACK_OVERRIDES"]).read_text(encoding="utf-8"))
    pack: dict[str, str] = {}

    @app.before_request
    def zh_language_pack():
        if request.path != LANGUAGE_PACK_PATH or not current_user.is_authenticated:
            return None  # Superset's own route answers (and asks an anonymous visitor to log in)
        if "json" not in pack:
            pack["json"] = json.dumps(patched_language_pack(get_language_pack("zh"), overrides), ensure_ascii=False)
        return Response(pack["json"], mimetype="application/json")

    @app.after_request
    def export_name(response):
        disposition = response.headers.get("Content-Disposition", "")
        if (request.path.rstrip("/") != "/api/v1/chart/data" or response.status_code != 200
                or not disposition.startswith("attachment")):
            return response
        extension = {"text/csv": "csv", "application/zip": "zip"}.get(response.mimetype, "xlsx")
        payload = _request_payload(request)
        form = payload.get("form_data") or {}
        title = form.get("slice_name") or ""
        if form.get("slice_id"):
            from superset import db
            from superset.models.slice import Slice

            chart = db.session.get(Slice, form["slice_id"])
            # Named only after a chart over the data just returned (a slice id is the client's to send).
            if chart is not None and chart.datasource_id == (payload.get("datasource") or {}).get("id"):
                title = chart.slice_name
        response.headers["Content-Disposition"] = content_disposition(
            export_file_name(title, export_month(payload), extension))
        return response
