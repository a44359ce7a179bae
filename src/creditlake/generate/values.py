"""Generic column values from the catalogue's column spec and the column's name, for datasets with no model of their own."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from creditlake.catalogue import CODE_LISTS, Column
from creditlake.generate import people
from creditlake.generate.regex_sample import sample

# Typical magnitudes by name fragment (first match wins): the median of a log-normal draw.
_MAGNITUDE = [
    ("fine", 20_000), ("confiscated", 10_000), ("capital", 500), ("funds", 300), ("amount", 50_000),
    ("balance", 200_000), ("revenue", 2_000_000), ("profit", 200_000), ("assets", 5_000_000),
    ("wages", 500_000), ("investment", 10_000_000), ("tax", 20_000), ("inflow", 300_000), ("outflow", 280_000),
    ("area", 2_000), ("m3", 300), ("kwh", 2_000), ("tce", 500), ("mu", 30), ("price", 5_000), ("base", 4_500),
    ("headcount", 15), ("employees", 15), ("staff", 10), ("count", 20), ("transactions", 40), ("beds", 60),
    ("capacity", 200), ("units", 120), ("vehicles", 8), ("days", 30), ("months", 3), ("enquiries", 3),
]
_YEAR_COLUMNS = ("year",)
_LATER_DATES = ("until", "due", "expire", "valid_until", "publicity_until", "agreed_completion")
_SHARE_COLUMNS = ("rate", "share", "score")


def _magnitude(name: str) -> float:
    for fragment, median in _MAGNITUDE:
        if fragment in name:
            return median
    return 1_000


def _number(col: Column, rng: random.Random, as_int: bool, period_start: date) -> str:
    name = col.name
    lo = float(col.min) if col.min is not None else None
    hi = float(col.max) if col.max is not None else None
    if any(y in name for y in _YEAR_COLUMNS):
        value = float(period_start.year - rng.choice((0, 1)))
    elif any(s in name for s in _SHARE_COLUMNS) and hi is not None and hi <= 100:
        value = rng.uniform(lo or 0.0, hi)
    else:
        value = _magnitude(name) * math.exp(rng.gauss(0, 0.9))
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return str(int(round(value))) if as_int else f"{value:.2f}"


def _date_in(period_start: date, rng: random.Random) -> date:
    next_month = (period_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return period_start + timedelta(days=rng.randrange((next_month - period_start).days))


def _string(col: Column, rng: random.Random, district_name: str) -> str:
    n = col.name
    if "id_no" in n or "id_card" in n:
        return people.make_id_number(rng, rng.choice(list(CODE_LISTS["gb2260_guiyang"])))
    if "phone" in n or "mobile" in n:
        return people.make_phone(rng)
    if "email" in n:
        return f"contact{rng.randrange(10**6):06d}@example.cn"
    if "address" in n or n == "location":
        return people.make_address(rng, district_name)
    if n.endswith("name") and col.sensitivity == "personal":
        return people.make_person_name(rng)
    if n in ("content", "reason", "cause", "inspection_items", "legal_basis"):
        return rng.choice(_TEXTS.get(n, _TEXTS["reason"]))
    if n.endswith("account_no"):
        return "".join(str(rng.randrange(10)) for _ in range(19))
    if n.endswith(("_no", "_id", "_code")) or n in ("record_no",):
        return f"{col.name[:2].upper()}{rng.randrange(10**10):010d}"
    return f"{col.description or col.name}{rng.randrange(1, 100)}"


_TEXTS = {
    "reason": ["未按规定期限公示年度报告", "超范围经营", "未取得许可从事经营活动", "虚假宣传", "产品质量不合格",
               "价格违法行为", "未按规定建立台账", "安全隐患未整改"],
    "cause": ["买卖合同纠纷", "劳动争议", "借款合同纠纷", "租赁合同纠纷", "建设工程施工合同纠纷", "服务合同纠纷"],
    "inspection_items": ["登记事项检查", "公示信息检查", "经营场所检查", "许可证照检查"],
    "legal_basis": ["《中华人民共和国行政处罚法》", "《市场主体登记管理条例》", "《中华人民共和国安全生产法》",
                    "《中华人民共和国环境保护法》"],
    "content": ["购买的商品存在质量问题，商家拒绝退货", "预付卡余额无法退还", "服务与宣传不符，要求退款",
                "网购商品七日内无理由退货被拒", "餐饮卫生问题", "收费不明码标价"],
}


def column_value(col: Column, rng: random.Random, *, period_start: date, uscc: str, district: str,
                 industry: str, district_name: str, other_uscc: str) -> str | None:
    """One delivered (string) value for `col`, consistent with its type, codes, pattern and range."""
    if col.nullable and rng.random() < 0.04:
        return None
    if col.check == "uscc":
        return uscc if col.name == "uscc" else other_uscc
    if col.codes == "gb2260_guiyang":
        return district
    if col.codes == "gb4754_section":
        return industry
    if col.codes:
        return rng.choice(sorted(CODE_LISTS[col.codes]))
    if col.allowed:
        return rng.choice(col.allowed)
    if col.name == "period":
        return f"{period_start:%Y-%m}"
    if col.pattern:
        return sample(col.pattern, rng)
    if col.type == "date":
        day = _date_in(period_start, rng)
        if any(s in col.name for s in _LATER_DATES):
            day = day + timedelta(days=365 * rng.randint(1, 5))
        if col.min is not None:
            day = max(day, date.fromisoformat(str(col.min)))
        return day.isoformat()
    if col.type == "timestamp":
        moment = datetime.combine(_date_in(period_start, rng), datetime.min.time()) + timedelta(
            seconds=rng.randrange(8 * 3600, 20 * 3600))
        return moment.isoformat(sep=" ")
    if col.type == "boolean":
        return "true" if rng.random() < 0.1 else "false"
    if col.type in ("int", "decimal"):
        return _number(col, rng, col.type == "int", period_start)
    return _string(col, rng, district_name)
