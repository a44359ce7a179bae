"""Synthetic enterprises and people: Chinese names, valid credit codes, ID numbers and phones."""

from __future__ import annotations

import random
from datetime import date, timedelta

from creditlake.codes import USCC_ALPHABET, org_code_check, uscc_check

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国玉梅红林飞鑫波斌宇浩凯俊帆雪婷倩晨阳欣怡子涵思远文博"
BRAND = "黔筑贵林山华盛鑫源泰恒达信诚和宏远新兴鼎丰瑞安顺隆昌德利通广金银凯豪云帆晟润嘉禾博雅创优联科星辰"
INDUSTRY_WORD = {
    "A": "农业发展", "B": "矿业", "C": "制造", "D": "能源", "E": "建筑工程", "F": "商贸", "G": "物流",
    "H": "餐饮管理", "I": "信息技术", "J": "投资管理", "K": "房地产开发", "L": "商务咨询", "M": "科技",
    "N": "环境工程", "O": "家政服务", "P": "教育咨询", "Q": "健康管理", "R": "文化传媒", "S": "社会服务",
    "T": "国际交流",
}
ROADS = "中华北路 中山西路 宝山北路 遵义路 解放路 花果园大街 长岭北路 林城西路 黔灵山路 北京路 延安中路 市府路 瑞金南路 贵黄路 金阳南路".split()

# GB 11714 body characters; kept within the credit-code alphabet so both checks apply cleanly.
_ORG_BODY = USCC_ALPHABET


def make_uscc(rng: random.Random, district_code: str) -> str:
    """A unified social credit code of an enterprise (9 = market regulation, 1 = enterprise)."""
    body = "".join(rng.choice(_ORG_BODY) for _ in range(8))
    first17 = "91" + district_code + body + org_code_check(body)
    return first17 + uscc_check(first17)


def make_name(rng: random.Random, district_name: str, industry: str) -> str:
    brand = rng.choice(BRAND) + rng.choice(BRAND)
    city = "贵阳" if rng.random() < 0.6 else "贵州" + district_name.rstrip("区县市")
    return f"{city}{brand}{INDUSTRY_WORD[industry]}有限公司"


def make_person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def make_id_number(rng: random.Random, district_code: str) -> str:
    """A resident ID number (GB 11643, MOD 11-2 check) born 1955-2000 in the district."""
    birth = date(1955, 1, 1) + timedelta(days=rng.randrange(45 * 365))
    first17 = f"{district_code}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]
    return first17 + check


def make_phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(str(rng.randrange(10)) for _ in range(9))


def make_address(rng: random.Random, district_name: str) -> str:
    return f"贵州省贵阳市{district_name}{rng.choice(ROADS)}{rng.randrange(1, 400)}号"
