"""Joint credit discipline (联合奖惩): may a department grant something to an enterprise? The answer, with grounds.

A department about to grant an approval, subsidy, contract or honour asks; the answer comes from the served
`mart_discipline_cases` (every sanction shared with every department that must restrict) and the question is
written to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creditlake.serve.store import query
from creditlake.settings import Settings

DEPARTMENTS = {"finance": "财政局", "procurement": "公共资源交易中心", "housing": "住房和城乡建设局",
               "ndrc": "发展和改革委员会", "sci": "科学技术局"}


@dataclass
class RestrictionAnswer:
    enterprise_id: str
    department: str
    restricted: bool
    grounds: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"enterprise_id": self.enterprise_id, "department": self.department, "restricted": self.restricted,
                "grounds": self.grounds}


def restriction_grounds(run_query, uscc: str, department: str) -> RestrictionAnswer:
    """Whether `department` must restrict grants to `uscc`, with every case that says so; `run_query(sql, params)`
    reads the serving store (store.query for a command, a StoreReader's for the profile service). BadCode (a
    ValueError) for a malformed code."""
    from creditlake.profile.lookup import checked_code

    code = checked_code(uscc)
    if department not in DEPARTMENTS:
        raise ValueError(f"unknown department {department!r} (one of: {', '.join(DEPARTMENTS)})")
    grounds = run_query(
        "SELECT case_id, trigger_department_name, sanction, shared_on, measure, basis, deadline, status "
        "FROM mart_discipline_cases WHERE enterprise_id = ? AND restricting_department = ? ORDER BY shared_on DESC",
        [code, department])
    return RestrictionAnswer(code, department, bool(grounds), grounds)


def is_restricted(settings: Settings, uscc: str, department: str) -> RestrictionAnswer:
    """Whether `department` must restrict grants to `uscc`, with every case that says so."""
    return restriction_grounds(lambda sql, params: query(settings, sql, params), uscc, department)


def record_question(settings: Settings, answer: RestrictionAnswer, purpose: str) -> None:
    from creditlake.ledger import append_event

    append_event("profile_lookup", {"uscc": answer.enterprise_id, "by": answer.department,
                                    "purpose": f"联合惩戒核查：{purpose}", "restricted": answer.restricted}, settings)


def penalty_share_events(settings: Settings, already: set[str]) -> list[tuple[str, dict]]:
    """Ledger events for the sanctions not yet shared: one per case, naming every department it goes to."""
    rows = query(settings, (
        "SELECT case_id, enterprise_id, trigger_department, min(shared_on) AS shared_on, "
        "string_agg(restricting_department, ',' ORDER BY restricting_department) AS departments, "
        "max(deadline) AS deadline FROM mart_discipline_cases GROUP BY case_id, enterprise_id, trigger_department "
        "ORDER BY case_id"))
    return [("penalty_shared", {"case_id": r["case_id"], "uscc": r["enterprise_id"],
                                "from_department": r["trigger_department"],
                                "to_departments": r["departments"].split(","), "deadline": str(r["deadline"])})
            for r in rows if r["case_id"] not in already]
