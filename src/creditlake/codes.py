"""Official code lists and check characters: GB 32100 credit codes, GB/T 2260 divisions, GB/T 4754 sections."""

from __future__ import annotations

# GB 32100-2015: 31 symbols, value = index (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714 organisation code: 8 body characters, weights below, check 0-9 or X.
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_VALUE = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}

# GB/T 2260: the divisions of Guiyang (贵阳市, 520100).
GUIYANG_DIVISIONS: dict[str, str] = {
    "520102": "南明区",
    "520103": "云岩区",
    "520111": "花溪区",
    "520112": "乌当区",
    "520113": "白云区",
    "520115": "观山湖区",
    "520121": "开阳县",
    "520122": "息烽县",
    "520123": "修文县",
    "520181": "清镇市",
}

# GB/T 4754-2017 sections.
INDUSTRY_SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

# Codes the utilities deliver, as a person reads them.
UTILITY_NAMES: dict[str, str] = {"power": "电", "water": "水", "gas": "燃气"}
UNIT_NAMES: dict[str, str] = {"kWh": "千瓦时", "m3": "立方米"}


def case_sql(expr: str, names: dict[str, str]) -> str:
    """SQL CASE turning a code into its Chinese name (an unknown code shown as it is), DuckDB and PostgreSQL."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in names.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


def yes_no_sql(expr: str) -> str:
    """SQL: a boolean as 是/否 (NULL stays NULL)."""
    return f"CASE WHEN {expr} THEN '是' WHEN NOT {expr} THEN '否' END"


def org_code_check(body: str) -> str:
    """Check character of an 8-character GB 11714 organisation code body."""
    total = sum(_ORG_VALUE[c] * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def uscc_check(first17: str) -> str:
    """Check character (position 18) of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str | None) -> str | None:
    """Why `code` is not a unified social credit code under GB 32100, in one Chinese sentence; None when it is."""
    if not code:
        return "统一社会信用代码为空"
    if len(code) != 18:
        return f"统一社会信用代码应为18位，收到{len(code)}位"
    bad = next((c for c in code if c not in USCC_ALPHABET), None)
    if bad is not None:
        return f"统一社会信用代码含有 GB 32100 不允许的字符“{bad}”（只用数字和除 I、O、Z、S、V 外的大写字母）"
    org = code[8:17]
    if not org[:8].isalnum() or org_code_check(org[:8]) != org[8]:
        return f"统一社会信用代码第17位（组织机构代码校验码）应为“{org_code_check(org[:8])}”，收到“{org[8]}”"
    if uscc_check(code[:17]) != code[17]:
        return f"统一社会信用代码第18位（校验码）应为“{uscc_check(code[:17])}”，收到“{code[17]}”"
    return None


def is_valid_uscc(code: str | None) -> bool:
    """True when `code` is 18 characters of the GB 32100 alphabet with both check characters right."""
    return uscc_problem(code) is None
