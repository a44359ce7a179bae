"""The point-to-point lost-contact list (失联企业名单) for officers, from the serving store."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from creditlake.codes import GUIYANG_DIVISIONS
from creditlake.serve.store import query
from creditlake.settings import Settings

# Column of mart_lost_contact -> header officers read.
COLUMNS: dict[str, str] = {
    "priority": "优先级",
    "score": "评分",
    "enterprise_id": "统一社会信用代码",
    "enterprise_name": "企业名称",
    "district_name": "所属区县",
    "address": "登记住所",
    "reasons_text": "失联原因",
    "follow_up_status": "跟进状态",
    "as_of_month": "数据截至",
}


def lost_contact_list(settings: Settings, district: str | None = None) -> list[dict[str, Any]]:
    """The list, highest score first; `district` (GB/T 2260 code) narrows it to one officer's division."""
    if district is not None and district not in GUIYANG_DIVISIONS:
        known = ", ".join(f"{c} {n}" for c, n in GUIYANG_DIVISIONS.items())
        raise ValueError(f"unknown district code {district!r} (Guiyang's divisions: {known})")
    cols = ", ".join(COLUMNS)
    sql = f"SELECT {cols} FROM mart_lost_contact"
    params: list[str] = []
    if district:
        sql += " WHERE district_code = ?"
        params.append(district)
    return query(settings, sql + " ORDER BY score DESC, enterprise_id", params)


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """Chinese headers, UTF-8 with a byte-order mark so Excel on Windows opens it correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS.values())
        for row in rows:
            writer.writerow([row[c] for c in COLUMNS])
    return path
