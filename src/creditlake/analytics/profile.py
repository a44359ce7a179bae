"""The panoramic profile (企业全景画像): everything the lake knows about one enterprise, by information class.

Read from the serving store (DuckDB file or PostgreSQL), not Spark, so a lookup answers in well under a second.
Every lookup is recorded in the ledger: who looked, for what purpose (no personal data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creditlake.codes import UNIT_NAMES, UTILITY_NAMES, case_sql, is_valid_uscc, yes_no_sql
from creditlake.serve.store import query
from creditlake.settings import Settings

# (key, title in Chinese, SQL with one `?` for the enterprise): the information classes of the profile.
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("activity", "经营活跃度（近12个月）",
     "SELECT month AS 月份, round(activity_index, 1) AS 活跃度指数, band_zh AS 分档, round(points_utility, 1) AS 水电气,"
     " round(points_tax, 1) AS 纳税, round(points_social, 1) AS 社保, round(points_bank, 1) AS 银行流水,"
     " round(points_invoices, 1) AS 发票, round(points_annual_report, 1) AS 年报, round(points_bonus, 1) AS 加分"
     " FROM mart_enterprise_activity_monthly WHERE enterprise_id = ? ORDER BY month DESC LIMIT 12"),
    ("licences", "行政许可",
     "SELECT licence_no AS 许可证号, licence_type AS 许可类型, action AS 事项, decided_on AS 决定日期,"
     " valid_until AS 有效期至 FROM fct_licences WHERE enterprise_id = ? ORDER BY decided_on DESC"),
    ("penalties", "行政处罚与惩戒",
     "SELECT department_name AS 部门, case_id AS 文书号, decided_on AS 日期, sanction AS 内容, amount_cny AS 金额"
     " FROM fct_penalties WHERE enterprise_id = ? ORDER BY decided_on DESC"),
    ("credit_listings", "信用名单",
     "SELECT list_type AS 名单, field AS 领域, listing_authority AS 认定部门, listed_on AS 列入日期, removed_on AS 移出日期"
     " FROM fct_credit_listings WHERE enterprise_id = ? ORDER BY listed_on DESC"),
    ("court_cases", "司法信息",
     "SELECT case_no AS 案号, court_name AS 法院, case_type AS 案件类型, cause AS 案由, role AS 诉讼地位,"
     " judged_on AS 裁判日期, outcome AS 结果 FROM fct_court_cases WHERE enterprise_id = ? ORDER BY judged_on DESC"),
    ("abnormal_listings", "经营异常名录",
     "SELECT decision_no AS 决定书文号, action AS 事项, action_date AS 日期, reason AS 事由, removal_reason AS 移出事由"
     " FROM fct_abnormal_listings WHERE enterprise_id = ? ORDER BY action_date DESC"),
    ("inspections", "检查记录",
     "SELECT inspection_id AS 检查编号, inspection_type AS 检查类型, inspected_on AS 检查日期, result AS 结果"
     " FROM fct_inspections WHERE enterprise_id = ? ORDER BY inspected_on DESC"),
    ("complaints", "投诉举报",
     "SELECT complaint_id AS 编号, received_on AS 登记日期, kind AS 类型, category AS 问题类别, status AS 处理状态"
     " FROM fct_complaints WHERE enterprise_id = ? ORDER BY received_on DESC"),
    ("mediations", "消费纠纷调解",
     "SELECT case_id AS 案件编号, category AS 类别, outcome AS 结果, settlement AS 方式, settled_cny AS 金额,"
     " closed_on AS 办结日期 FROM fct_mediation_cases WHERE enterprise_id = ? ORDER BY closed_on DESC"),
    ("utilities", "水电气使用（近12个月）",
     f"SELECT month AS 月份, {case_sql('utility', UTILITY_NAMES)} AS 类别, round(quantity, 1) AS 用量,"
     f" {case_sql('unit', UNIT_NAMES)} AS 单位 FROM fct_utility_use"
     " WHERE enterprise_id = ? ORDER BY month DESC, utility LIMIT 36"),
    ("tax", "纳税申报（近12个月）",
     "SELECT month AS 所属期, returns_filed AS 申报次数, declared_cny AS 申报税额（元）,"
     f" {yes_no_sql('is_zero_declaration')} AS 零申报 FROM fct_tax_filings WHERE enterprise_id = ? ORDER BY month DESC"
     " LIMIT 12"),
    ("annual_reports", "年度报告",
     f"SELECT report_year AS 年度, filed_on AS 公示日期, {yes_no_sql('is_filed_on_time')} AS 按时报送,"
     " business_status AS 经营状态 FROM fct_annual_reports WHERE enterprise_id = ? ORDER BY report_year DESC"),
    ("warnings", "风险预警",
     "SELECT month AS 月份, warning_type_zh AS 预警类型, severity AS 等级, evidence AS 依据 FROM mart_warnings"
     " WHERE enterprise_id = ? ORDER BY month DESC"),
    ("lost_contact", "失联核查",
     "SELECT score AS 评分, priority AS 优先级, reasons_text AS 原因, follow_up_status AS 跟进状态"
     " FROM mart_lost_contact WHERE enterprise_id = ?"),
)


@dataclass
class Profile:
    enterprise_id: str
    summary: dict[str, Any]
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"title": ..., "rows": [...]}

    def as_dict(self) -> dict[str, Any]:
        return {"enterprise_id": self.enterprise_id, "summary": self.summary, "sections": self.sections}


def enterprise_profile(settings: Settings, uscc: str) -> Profile:
    """The profile of `uscc`; ValueError for a malformed code, KeyError when the lake has no such enterprise."""
    uscc = uscc.strip().upper()
    if not is_valid_uscc(uscc):
        raise ValueError(f"{uscc!r} is not a valid unified social credit code (GB 32100: 18 characters, check digit)")
    found = query(settings, "SELECT * FROM mart_enterprise_profile WHERE enterprise_id = ?", [uscc])
    if not found:
        raise KeyError(f"no enterprise {uscc} in the serving store (published gold); run `creditlake run` first")
    profile = Profile(uscc, found[0])
    for key, title, sql in CLASSES:
        profile.sections[key] = {"title": title, "rows": query(settings, sql, [uscc])}
    return profile


def record_lookup(settings: Settings, uscc: str, by: str, purpose: str) -> None:
    """Who looked at which enterprise and why, in the tamper-evident ledger."""
    from creditlake.ledger import append_event

    append_event("profile_lookup", {"uscc": uscc, "by": by, "purpose": purpose}, settings)
