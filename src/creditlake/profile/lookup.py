"""One enterprise's profile as a reader in a role may see it: read from the serving store (the published
`profile_records` and `mart_enterprise_profile`), shaped by the catalogue's definition (creditlake.profile.definition).

Shared by `creditlake profile` and the query service (creditlake.profile.api): one definition of what each role reads.
Every lookup is recorded in the tamper-evident ledger: who (role and pseudonym), why, which classes were returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from creditlake.catalogue import Catalogue
from creditlake.codes import uscc_problem
from creditlake.profile.definition import CLASS_NAMES, ROLES, ShownColumn, Subclass, subclasses
from creditlake.profile.records import TABLE

Query = Callable[[str, list], list[dict[str, Any]]]

# The summary at the head of the profile (mart_enterprise_profile): column, heading, the lowest role that reads it.
SUMMARY: tuple[tuple[str, str, str], ...] = (
    ("enterprise_name", "企业名称", "public"),
    ("status_zh", "登记状态", "public"),
    ("established_on", "成立日期", "public"),
    ("registered_capital_10k_cny", "注册资本（万元）", "public"),
    ("district_name", "所属区县", "public"),
    ("industry_code", "行业门类代码", "public"),
    ("industry_name", "行业门类", "public"),
    ("address", "住所", "public"),
    ("deregistered_on", "注销日期", "public"),
    ("last_changed_on", "最近变更日期", "department"),
    ("activity_month", "活跃度所属月份", "department"),
    ("activity_index", "企业活跃度指数", "department"),
    ("activity_band_zh", "活跃度分档", "department"),
    ("legal_rep_age_band", "法定代表人年龄段", "regulator"),
    ("contact_phone_is_valid", "登记联系电话是否有效", "regulator"),
    ("is_lost_contact", "是否列入失联核查名单", "regulator"),
    ("lost_contact_score", "失联评分", "regulator"),
    ("loan_status_zh", "信贷逾期核验结果（人民银行，数据不出域）", "regulator"),
    ("loan_check_month", "信贷核验月份", "regulator"),
)


class BadCode(ValueError):
    """The code is not a unified social credit code (GB 32100); the message says why, in Chinese."""


class NotFound(KeyError):
    """No such enterprise in the serving store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "未找到该企业"


@dataclass(frozen=True)
class Reader:
    """Who reads: a role, for a department its source code in the catalogue (it reads its own datasets whole)."""

    role: str
    department: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (one of: {', '.join(ROLES)})")

    def reads(self, disclosed_to: str, source: str | None = None) -> bool:
        if self.role == "department" and source is not None and source == self.department:
            return True
        return ROLES.index(disclosed_to) <= ROLES.index(self.role)


REGULATOR = Reader("regulator")


@dataclass
class Profile:
    enterprise_id: str
    reader: Reader
    summary: dict[str, Any]
    classes: list[dict[str, Any]] = field(default_factory=list)

    def populated(self) -> int:
        return sum(1 for c in self.classes for s in c["subclasses"] if s["records"])

    def subclass_count(self) -> int:
        return sum(len(c["subclasses"]) for c in self.classes)

    def as_dict(self) -> dict[str, Any]:
        return {"enterprise_id": self.enterprise_id, "role": self.reader.role, "summary": self.summary,
                "subclasses": self.subclass_count(), "populated": self.populated(), "classes": self.classes}


def checked_code(uscc: str) -> str:
    code = (uscc or "").strip().upper()
    problem = uscc_problem(code)
    if problem is not None:
        raise BadCode(problem)
    return code


def category_code(name_or_code: str) -> str:
    """A class named by its code (judicial) or its Chinese name (司法涉诉); KeyError for neither."""
    for code, name in CLASS_NAMES.items():
        if name_or_code in (code, name):
            return code
    raise KeyError(name_or_code)


_VIEWS: dict[tuple[int, Reader], tuple[Catalogue, dict[str, list[tuple[Subclass, tuple[ShownColumn, ...]]]]]] = {}


def _view(catalogue: Catalogue, reader: Reader) -> dict[str, list[tuple[Subclass, tuple[ShownColumn, ...]]]]:
    """Per class, the sub-classes `reader` reads with the columns it reads of each (computed once per catalogue and
    reader: a lookup walks it every time)."""
    held = _VIEWS.get((id(catalogue), reader))
    if held is None or held[0] is not catalogue:
        view: dict[str, list] = {code: [] for code in CLASS_NAMES}
        for sub in subclasses(catalogue):
            shown = tuple(c for c in sub.columns if reader.reads(c.disclosed_to, sub.source))
            if shown:
                view[sub.category].append((sub, shown))
        held = _VIEWS[(id(catalogue), reader)] = (catalogue, {k: v for k, v in view.items() if v})
    return held[1]


def _records(rows: list[dict], shown: tuple[ShownColumn, ...]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        values = json.loads(row["record"])
        out.append({c.heading: values.get(c.name) for c in shown})
    return out


def enterprise_profile(query: Query, catalogue: Catalogue, uscc: str, reader: Reader = REGULATOR,
                       category: str | None = None) -> Profile:
    """The profile of `uscc` as `reader` sees it, every class or one (`category`, a key of CLASS_NAMES). BadCode for
    a malformed code, NotFound when the store has no such enterprise."""
    code = checked_code(uscc)
    summary_columns = [(col, heading) for col, heading, level in SUMMARY if reader.reads(level)]
    found = query(f"SELECT {', '.join(col for col, _ in summary_columns)} FROM mart_enterprise_profile"
                  " WHERE enterprise_id = ?", [code])
    if not found:
        raise NotFound(f"未找到统一社会信用代码为 {code} 的企业（已发布数据中没有）")
    profile = Profile(code, reader, {heading: found[0][col] for col, heading in summary_columns})
    rows = query(f'SELECT subclass_id, record FROM "{TABLE}" WHERE enterprise_id = ?'
                 " ORDER BY subclass_id, record_date DESC NULLS LAST", [code])
    by_sub: dict[str, list[dict]] = {}
    for row in rows:
        by_sub.setdefault(row["subclass_id"], []).append(row)
    for cat_code, subs in _view(catalogue, reader).items():
        if category is None or category == cat_code:
            profile.classes.append({"code": cat_code, "name": CLASS_NAMES[cat_code], "subclasses": [
                {"id": sub.id, "name": sub.name, "source": sub.source_name, "dataset": sub.dataset_name,
                 "records": _records(by_sub.get(sub.id, ()), shown)} for sub, shown in subs]})
    return profile


def definition(catalogue: Catalogue, reader: Reader = REGULATOR) -> list[dict[str, Any]]:
    """The classes and sub-classes `reader` may read, with each sub-class's source and column headings (what a
    profile's records hold, before any enterprise is looked up)."""
    return [{"code": code, "name": CLASS_NAMES[code], "subclasses": [
        {"id": sub.id, "name": sub.name, "source": sub.source_name, "dataset": sub.dataset_name,
         "columns": [c.heading for c in shown]} for sub, shown in subs]}
        for code, subs in _view(catalogue, reader).items()]


def search_by_name(query: Query, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Enterprises whose name contains `text` (public: code, name, status, district, industry)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return query("SELECT enterprise_id AS 统一社会信用代码, enterprise_name AS 企业名称, status_zh AS 登记状态,"
                 " district_name AS 所属区县, industry_name AS 行业门类 FROM mart_enterprise_profile"
                 " WHERE enterprise_name LIKE ? ESCAPE '\\' ORDER BY enterprise_name, enterprise_id LIMIT ?",
                 [pattern, limit])


def record_lookup(settings, uscc: str, by: str, purpose: str, role: str = "regulator",
                  classes: list[str] | None = None, append=None) -> None:
    """Who looked at which enterprise, why and what was returned, in the tamper-evident ledger (no personal data:
    `by` is a role or a pseudonym); `append(kind, record)` is the service's group commit, else one append."""
    from creditlake.ledger import append_event

    record = {"uscc": uscc, "by": by, "role": role, "purpose": purpose}
    if classes is not None:
        record["classes"] = classes
    if append is not None:
        append("profile_lookup", record)
    else:
        append_event("profile_lookup", record, settings)
