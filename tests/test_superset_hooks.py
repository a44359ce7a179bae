"""The Superset-side hooks' pure parts (superset_hooks runs inside Superset; these need no server), and the
language-pack corrections against the zh pack of the Superset the project installs."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pandas as pd

from creditlake.superset import manage
from creditlake.superset.superset_hooks import (
    content_disposition,
    export_file_name,
    export_month,
    patched_language_pack,
    plain_frame,
    plain_text,
)

LINK = '<a href="/superset/dashboard/enterprise-profile/?native_filters=(x:1)">贵州甲&amp;乙有限公司</a>'


def test_a_link_exports_as_the_name_it_shows():
    assert plain_text(LINK) == "贵州甲&乙有限公司"
    assert plain_text("投诉 1 < 2 件") == "投诉 1 < 2 件"  # a "<" that opens no tag stays
    assert plain_text(7) == 7 and plain_text(None) is None


def test_plain_frame_leaves_numbers_and_the_input_alone():
    df = pd.DataFrame({"企业名称": [LINK, "贵州丙有限公司"], "失联评分": [100, 75]})
    out = plain_frame(df)
    assert list(out["企业名称"]) == ["贵州甲&乙有限公司", "贵州丙有限公司"]
    assert list(out["失联评分"]) == [100, 75]
    assert df.loc[0, "企业名称"] == LINK


def test_the_file_is_named_after_the_chart_and_its_month():
    assert export_file_name("失联企业点对点核查名单", "2024-06", "csv") == "失联企业点对点核查名单_2024-06.csv"
    assert export_file_name("各区县/各行业", None, "xlsx") == "各区县_各行业_全部月份.xlsx"
    header = content_disposition("失联企业点对点核查名单_2024-06.csv")
    assert header.startswith('attachment; filename="export.csv"; filename*=UTF-8\'\'')
    assert unquote(header.split("''", 1)[1]) == "失联企业点对点核查名单_2024-06.csv"


def test_the_month_is_the_one_the_request_is_filtered_to():
    one = {"queries": [{"filters": [{"col": "district_name", "op": "IN", "val": ["南明区"]},
                                    {"col": "as_of_month", "op": "IN", "val": ["2024-06"]}]}]}
    assert export_month(one) == "2024-06"
    assert export_month({"queries": [{"filters": [{"col": "month", "op": "IN", "val": ["2024-05", "2024-06"]}]}]}) is None
    assert export_month({"queries": [{"filters": []}]}) is None and export_month({}) is None


def test_every_correction_names_a_message_of_supersets_zh_pack():
    """A correction whose msgid Superset does not have would change nothing: each must be in the installed pack."""
    (pack_file,) = manage.SUPERSET_ENV.glob("lib/python3*/site-packages/superset/translations/zh/LC_MESSAGES/messages.json")
    pack = json.loads(pack_file.read_text(encoding="utf-8"))
    overrides = json.loads(manage.ZH_OVERRIDES.read_text(encoding="utf-8"))
    messages = pack["locale_data"]["superset"]
    assert set(overrides) <= set(messages), sorted(set(overrides) - set(messages))
    patched = patched_language_pack(pack, overrides)["locale_data"]["superset"]
    assert patched["%s record"] == ["%s 条记录"] and messages["%s record"] == ["%s 异常"]
    assert all("异常" not in text for msgid, (text, *_) in patched.items() if "record" in msgid)
