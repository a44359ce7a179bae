"""Generic column values from the catalogue's column spec and the column's name, for datasets with no model of their own."""

from __future__ import annotations

import math
import random
import re
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
    if "officer" in n:  # an enforcement officer's certificate number (执法证号): pseudonymised at bronze
        return f"52{rng.randrange(10**9):09d}"
    if n in _EXAMPLES:
        return rng.choice(_EXAMPLES[n])
    if n == "project_name" or n == "name":
        kind = _PROJECTS if n == "project_name" else _ASSOCIATIONS
        return f"{district_name}{rng.choice(kind)}"
    return f"{col.description or col.name}{rng.randrange(1, 100)}"


# 案号 (最高人民法院《关于人民法院案件案号的若干规定》): （收案年度）+ 法院代字 + 类型代字 + 案件编号 + 号, e.g.
# （2024）黔0102民初1234号. 黔01 is Guiyang; the basic courts add their division's last two digits.
_COURT_SUFFIXES = ("", "02", "03", "11", "12", "13", "15", "21", "22", "23", "81")
_CASE_TYPES = ("民初", "民终", "商初", "行初", "刑初", "知民初")
_ENFORCEMENT_TYPES = ("执", "执恢", "执保", "执异")
_CHINESE_NUMBERS = "一二三四五六七八九十"


def _case_number(col: Column, rng: random.Random, period_start: date, district: str) -> str | None:
    """A case number as courts write them, for a column whose pattern is the 案号's; None for other patterns (and
    whenever the realistic number would not match the column's pattern, so the pattern sampler decides)."""
    if "黔01" not in col.pattern or "号" not in col.pattern:
        return None
    kinds = _ENFORCEMENT_TYPES if "执" in col.pattern else _CASE_TYPES
    suffix = rng.choice(_COURT_SUFFIXES)
    number = (f"（{period_start.year - rng.choice((0, 0, 1))}）黔01{suffix}{rng.choice(kinds)}"
              f"{rng.randrange(1, 20000)}号" + (f"之{rng.choice(_CHINESE_NUMBERS[:3])}" if rng.random() < 0.03 else ""))
    return number if re.fullmatch(col.pattern, number) else None


_DEPARTMENTS = ["贵阳市市场监督管理局", "国家税务总局贵阳市税务局", "贵阳市人力资源和社会保障局", "贵阳市生态环境局",
                "贵阳市应急管理局", "贵阳市住房和城乡建设局", "贵阳海关", "贵阳市交通运输局", "贵阳市卫生健康委员会",
                "贵阳市南明区市场监督管理局", "贵阳市云岩区市场监督管理局", "贵阳市观山湖区市场监督管理局"]
_COURTS = ["贵阳市中级人民法院", "贵阳市南明区人民法院", "贵阳市云岩区人民法院", "贵阳市花溪区人民法院",
           "贵阳市乌当区人民法院", "贵阳市白云区人民法院", "贵阳市观山湖区人民法院", "开阳县人民法院", "息烽县人民法院",
           "修文县人民法院", "清镇市人民法院"]
_PROJECTS = ["标准化厂房建设项目", "综合物流园项目", "商业综合体项目", "保障性住房项目", "产业园区基础设施项目",
             "数据中心项目", "城市更新改造项目"]
_ASSOCIATIONS = ["物流行业协会", "餐饮行业协会", "软件行业协会", "建筑业协会", "茶叶协会", "个体劳动者协会"]
# Plausible values of free-text columns that have no code list (a real delivery may send any text there).
_EXAMPLES: dict[str, list[str]] = {
    "court_name": _COURTS,
    "listing_authority": _DEPARTMENTS, "deciding_authority": _DEPARTMENTS, "authority": _DEPARTMENTS,
    "registration_authority": _DEPARTMENTS[:1] + _DEPARTMENTS[-3:], "providing_department": _DEPARTMENTS,
    "department": _DEPARTMENTS, "supervisor": ["贵阳市民政局", "贵阳市商务局", "贵阳市工业和信息化局", "贵阳市科学技术局"],
    "sender": _DEPARTMENTS + _COURTS[:2],
    "violation_type": ["未按规定进行安全生产教育和培训", "特种作业人员未持证上岗", "未建立事故隐患排查治理制度",
                       "虚假宣传", "销售不合格产品", "未按规定公示年度报告", "无照经营", "价格违法",
                       "未按规定使用计量器具"],
    "programme": ["中小企业发展专项资金", "稳岗返还补贴", "科技创新券", "农民专业合作社发展补助",
                  "工业和信息化发展专项资金", "商贸流通业发展补助"],
    "audit_project": ["财政专项资金使用情况审计", "政府投资建设项目审计", "国有企业负责人经济责任审计",
                      "惠企政策落实情况审计"],
    "api_name": ["企业登记信息查询", "纳税信用等级查询", "社保缴费状态核验", "企业用电量统计", "不动产登记信息查询"],
    "qualification": ["建筑工程施工总承包三级", "市政公用工程施工总承包二级", "建筑装修装饰工程专业承包二级",
                      "房屋建筑工程监理乙级"],
    "escrow_bank": ["中国工商银行贵阳分行", "中国建设银行贵州省分行", "中国农业银行贵阳分行", "贵阳银行", "贵州银行"],
    "task_name": ["企业公示信息双随机抽查", "食品经营许可事项抽查", "广告发布行为专项抽查", "特种设备安全专项检查",
                  "产品质量监督抽查"],
    "field": ["税务", "海关", "市场监管", "司法", "生态环境", "安全生产"],
}


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
        return _case_number(col, rng, period_start, district) or sample(col.pattern, rng)
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
