"""Mediation search: for a new complaint, the most similar past cases and the law articles that decide it.

Tokens: jieba in search mode (`cut_for_search`, so 无理由退货 also yields 理由/退货) with a domain user dictionary,
NFKC-normalised and lower-cased, minus stop words, punctuation and numbers. A complaint is colloquial (不给退,
跑路, 拉肚子) and the law is not (退货, 预收款, 人身伤害): for the article search the query is expanded with the
legal terms of the colloquial triggers it contains (`EXPANSIONS`, weight `EXPANSION_WEIGHT`).

Ranking: Okapi BM25, implemented here (`BM25`), over two corpora: past cases (complaint texts) and law articles.
Articles are then boosted by what the similar cases cited: the mediators' own citations are the best evidence of
which articles a kind of dispute turns on (see docs/mediation.md for the formula and the evaluation that chose it).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from creditlake.mediation.corpus import Case, cases_from_rows
from creditlake.mediation.laws import Article, all_articles

INDEX_FORMAT = 2  # 2: the index carries its query lexicon
# What the cases' term counts depend on: this module (its stop words, user words and rules). An index built by
# another version of it is not reused (MediationIndex's `previous`).
TOKENIZER_KEY = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
# BM25 parameters: k1 saturates term frequency (1.2-2.0 usual; complaints are short, articles repeat terms),
# b normalises by document length (0.75 usual: long food-safety articles should not win on length alone).
K1 = 1.5
B = 0.75
EXPANSION_WEIGHT = 0.6   # weight of a legal term added by a colloquial trigger (an original query term weighs 1)
NEIGHBOURS = 20          # similar cases whose citations vote for articles
BOOST = 0.7              # share of an article's score that comes from the similar cases' citations
MODES = ("bm25", "category", "cases")
DEFAULT_MODE = "cases"

# Words jieba should keep whole (the domain's terms of art and the complaints' colloquialisms).
USER_WORDS = (
    "七日无理由退货", "无理由退货", "七天无理由", "预付卡", "预付款", "预收款", "格式条款", "最终解释权", "明码标价",
    "虚假宣传", "引人误解", "以假充真", "以次充好", "保质期", "过期食品", "食品安全标准", "惩罚性赔偿", "退一赔三",
    "假一赔十", "十倍赔偿", "三倍赔偿", "个人信息", "人脸识别", "直播间", "直播带货", "电子商务", "网络交易平台",
    "平台内经营者", "刷单", "好评返现", "霸王条款", "最低消费", "开瓶费", "包间费", "服务费", "安全保障义务",
    "人格尊严", "搜身", "跑路", "保修期", "三包", "售后服务", "以旧翻新", "货不对板", "拆封", "异物", "食物中毒",
    "中文标签", "强制消费", "强制交易", "骚扰电话", "商业性信息", "包过", "退费", "定金", "订金", "违约金", "翻新机",
    "营销短信", "退订", "人身伤害", "医疗费", "误工费", "缺陷", "召回", "维修费", "偷工减料", "先涨后降", "原价",
    "清仓", "虚构交易", "用户评价", "未予标明", "购货凭证", "发票", "停业", "闭店", "预收款方式", "腐败变质",
    "霉变", "上吐下泻", "急性肠胃炎", "拉肚子", "不予退款", "概不退换", "不退不换", "保证性承诺", "疾病治疗",
)
STOP_WORDS = frozenset("""
的 了 是 我 你 他 她 它 们 在 有 和 就 不 也 都 而 及 与 着 或 一个 没有 我们 你们 他们 这个 那个 这 那 之 于 以 为
被 把 让 给 对 从 向 到 说 要 会 能 可以 还 又 再 很 太 更 最 已 已经 但 但是 可是 所以 因为 如果 然后 结果 现在
当时 之后 后来 一下 一直 一次 一些 一点 什么 怎么 这样 那样 自己 这么 那么 吧 吗 呢 啊 呀 哦 嗯 呗 哈 哦 请 您好 你好
谢谢 本人 投诉 反映 消费者 投诉人 称 想 帮忙 处理 希望 尽快 请求 等 其 该 并 且 或者 以及 及其 其他 前款 规定 本法
买 用 去 来 看 找 拿 做 花 搞 弄 东西 时候 觉得 知道 发现 多少 左右 大概 一共 块钱 块 钱
本办法 本规定 有关 相关 应当 依照 依法 下列 情形 之一 条 款 项 元 个 件 次 天 月 年 日 号 里 上 下 中 前 后 内 外
""".split())
# Colloquial triggers (substrings of the normalised complaint) and the legal terms they stand for.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "不给退": ("退货",), "不退": ("退货",), "退不了": ("退货",), "不让退": ("退货",), "不肯退": ("退货",),
    "退换": ("退货", "更换"), "换新": ("更换",), "换一": ("更换",),
    "假货": ("以假充真", "欺诈"), "假的": ("以假充真", "欺诈"), "仿冒": ("冒用", "以假充真"), "高仿": ("以假充真",),
    "山寨": ("以假充真",), "鉴定": ("以假充真",), "翻新": ("以次充好",), "冒充": ("以假充真",),
    "正品": ("以假充真",), "三倍": ("欺诈", "增加赔偿"), "赔三": ("欺诈", "增加赔偿"), "欺诈": ("增加赔偿",),
    "十倍": ("价款十倍", "食品安全标准"), "过期": ("超过保质期", "保质期"), "保质期": ("超过保质期",),
    "生产日期": ("保质期", "标签"), "发霉": ("腐败变质", "霉变"), "变质": ("腐败变质",), "馊": ("腐败变质",),
    "臭": ("腐败变质",), "长毛": ("霉变",), "胀袋": ("腐败变质",), "头发": ("异物", "污秽不洁"),
    "苍蝇": ("异物", "污秽不洁"), "虫": ("异物", "霉变生虫"), "钢丝": ("异物",), "异物": ("污秽不洁",),
    "拉肚子": ("人身伤害", "医疗费", "食品安全标准"), "腹泻": ("人身伤害", "医疗费", "食品安全标准"),
    "吐": ("人身伤害", "医疗费"), "肠胃炎": ("人身伤害", "医疗费", "食品安全标准"),
    "食物中毒": ("人身伤害", "医疗费", "食品安全标准"), "住院": ("医疗费", "人身伤害"), "医院": ("医疗费",),
    "医药费": ("医疗费", "人身伤害"), "误工": ("误工减少的收入",),
    "跑路": ("预收款", "预付款"), "关门": ("预收款", "预付款"), "倒闭": ("预收款", "预付款"),
    "停业": ("预收款", "预付款"), "联系不上": ("预付款",), "找不到人": ("预付款",),
    "办卡": ("预收款", "预付款"), "办了": ("预收款",), "充值": ("预收款", "预付款"), "会员卡": ("预付款",),
    "年卡": ("预收款", "预付款"), "次卡": ("预收款", "预付款"), "储值": ("预付款",), "余额": ("退回预付款",),
    "退卡": ("退回预付款",), "退费": ("退回预付款",), "课时": ("预收款",), "课程": ("预收款",),
    "网购": ("网络", "电子商务"), "网上": ("网络", "电子商务"), "网店": ("网络交易平台", "电子商务"),
    "电商": ("电子商务",), "平台": ("网络交易平台", "电子商务平台"), "店铺": ("平台内经营者",),
    "下单": ("电子商务", "网络"), "直播": ("直播间", "网络直播"), "主播": ("直播间", "网络直播"),
    "带货": ("直播间",), "七天": ("七日", "无理由退货"), "7天": ("七日", "无理由退货"), "无理由": ("无理由退货",),
    "拆封": ("拆封", "无理由退货"), "拆开": ("拆封",), "包装拆": ("拆封",),
    "标价": ("明码标价",), "价签": ("明码标价",), "多收": ("多付价款", "标价之外加价"),
    "多扣": ("多付价款",), "差价": ("多付价款",), "原价": ("虚假的或者使人误解的价格手段",),
    "打折": ("价格手段",), "折扣": ("价格手段",), "促销": ("价格手段",), "最低价": ("最低价", "价格手段"),
    "清仓": ("清仓价",), "甩卖": ("甩卖价",), "降价": ("价格手段",), "涨价": ("价格手段",),
    "最低消费": ("强制交易", "公平交易"), "开瓶费": ("强制交易", "未予标明的费用"),
    "服务费": ("未予标明的费用",), "包间费": ("未予标明的费用",), "强制": ("强制交易",),
    "不买": ("强制交易", "自主选择"), "导游": ("强制交易",),
    "包过": ("保证性承诺", "通过考试"), "保过": ("保证性承诺", "通过考试"), "保分": ("保证性承诺",),
    "拿证": ("合格证书", "保证性承诺"), "考试": ("通过考试",), "培训": ("教育、培训",),
    "治病": ("疾病治疗功能", "医疗用语"), "降血压": ("疾病治疗功能",), "降糖": ("疾病治疗功能",),
    "降血糖": ("疾病治疗功能",), "糖尿病": ("疾病治疗功能",), "抗癌": ("疾病治疗功能",), "治疗": ("疾病治疗功能",),
    "疗效": ("疾病治疗功能", "功效"), "保健": ("保健食品",), "讲座": ("虚假广告", "疾病治疗功能"),
    "宣传": ("虚假宣传", "引人误解的宣传"), "广告": ("虚假广告",), "忽悠": ("虚假宣传", "欺骗"),
    "骗": ("欺骗", "欺诈"), "承诺": ("允诺",),
    "刷单": ("虚构交易",), "好评": ("用户评价", "编造用户评价"), "返现": ("编造用户评价", "虚构交易"),
    "销量": ("销售状况", "虚构交易"), "评价": ("用户评价",),
    "骚扰": ("商业性信息", "个人信息"), "推销电话": ("商业性信息",), "短信": ("商业性信息",),
    "退订": ("明确表示拒绝", "商业性信息"), "泄露": ("个人信息", "泄露"), "卖给": ("出售", "个人信息"),
    "手机号": ("个人信息",), "身份证": ("个人信息",), "人脸": ("个人信息", "收集"), "刷脸": ("个人信息", "收集"),
    "住址": ("个人信息",), "通讯录": ("个人信息", "收集"), "授权": ("同意",), "不同意": ("同意", "拒绝提供产品或者服务"),
    "搜身": ("搜查", "人格尊严"), "翻包": ("搜查", "携带的物品"), "辱骂": ("侮辱", "人格尊严"),
    "骂": ("侮辱",), "小偷": ("侮辱", "人格尊严"), "偷东西": ("侮辱", "人格尊严"), "推搡": ("人身自由",),
    "不让走": ("人身自由",), "精神": ("精神损害赔偿",),
    "摔倒": ("安全保障义务", "人身伤害"), "摔伤": ("人身伤害",), "滑倒": ("安全保障义务",),
    "砸伤": ("安全保障义务", "人身伤害"), "夹伤": ("安全保障义务", "人身伤害"), "地滑": ("安全保障义务",),
    "烫伤": ("人身伤害", "缺陷"), "烧伤": ("人身伤害", "缺陷"), "骨折": ("人身伤害", "医疗费"),
    "受伤": ("人身伤害",), "起火": ("缺陷", "人身、财产安全"), "漏电": ("缺陷", "人身、财产安全"),
    "爆炸": ("缺陷",), "炸裂": ("缺陷",), "冒烟": ("缺陷",),
    "发票": ("发票", "购货凭证"), "收据": ("发票", "服务单据"), "开票": ("发票",),
    "保修": ("修理", "更换"), "三包": ("修理", "更换", "退货"), "返修": ("修理", "更换"), "售后": ("修理",),
    "维修": ("修理",), "修了": ("修理",), "配件": ("零部件",), "零件": ("零部件",), "维修费": ("加收费用",),
    "拖": ("故意拖延",), "推诿": ("故意拖延", "无理拒绝"), "推脱": ("故意拖延", "无理拒绝"),
    "不处理": ("故意拖延",), "没人管": ("故意拖延",), "不理": ("无理拒绝",),
    "霸王条款": ("格式条款", "不公平、不合理"), "概不退换": ("格式条款", "店堂告示"),
    "解释权": ("格式条款", "最终解释权"), "不退不换": ("格式条款",), "告示": ("店堂告示", "格式条款"),
    "条款": ("格式条款",), "协议": ("格式条款", "约定"), "手续费": ("不公平、不合理",),
    "合同": ("约定", "履行"), "约定": ("履行",), "装修": ("装饰装修",), "工期": ("履行期限",),
    "定金": ("预收款",), "订金": ("预收款",), "预订": ("预收款",), "定做": ("预收款",), "定制": ("预收款",),
    "交货": ("交付",), "发货": ("交付",), "送货": ("交付",),
    "中文标签": ("中文标签", "进口"), "外文": ("中文标签",), "标签": ("标签",), "进口": ("进口", "中文标签"),
    "走私": ("进口",), "配料": ("配料表", "标签"),
    "签收": ("交付", "签收"), "快递": ("交付", "运输"), "物流": ("交付", "运输"), "没收到": ("交付",),
    "丢件": ("运输中的风险",), "摔坏": ("运输中的风险",),
    "货不对板": ("质量状况", "信息"), "不符": ("不符", "质量状况"), "不一样": ("不符",), "描述": ("披露",),
    "图片": ("披露", "信息"), "参数": ("性能", "规格"), "材质": ("主要成份", "质量"),
    "失联": ("真实名称、地址和有效联系方式",), "不负责": ("连带责任",),
    "质量问题": ("质量要求", "质量"), "坏了": ("质量要求",), "故障": ("质量要求", "性能"),
    "死机": ("使用性能",), "开不了机": ("使用性能",), "不制冷": ("使用性能",), "漏水": ("使用性能",),
}
_SKIP = re.compile(r"^[\W_\d.]+$", re.U)
# Counts and dates carry no meaning here (第二天, 三千多, 两个月) except the legal periods and multiples below.
_NUMERAL = re.compile(r"^第?[零〇一二两三四五六七八九十百千万几半多]+[天日月年号周次个件块元斤台套节期遍位成点分倍]*$")
_KEEP_NUMERALS = frozenset({"七日", "七天", "三倍", "十倍", "三包"})


@lru_cache(maxsize=1)
def _jieba():
    with warnings.catch_warnings():  # jieba 0.42 has invalid escape sequences in its regular expressions
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for word in USER_WORDS:
        tk.add_word(word)
    return tk


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str, tk=None) -> list[str]:
    """Search-mode jieba tokens of `text`, without stop words, punctuation and numbers (`tk`: a query tokenizer
    from MediationIndex; default the full jieba dictionary)."""
    return [t for t in (w.strip() for w in (tk or _jieba()).cut_for_search(normalise(text)))
            if t and t not in STOP_WORDS and not _SKIP.match(t) and (t in _KEEP_NUMERALS or not _NUMERAL.match(t))]


# Below this many texts a build tokenizes in its own process (starting workers costs more than it saves).
PARALLEL_MIN_TEXTS = 20_000
_CHUNK = 5_000


def _counts_of(texts: list[str]) -> list[dict[str, int]]:
    return [dict(Counter(tokenize(t))) for t in texts]


def term_counts(texts: list[str], workers: int | None = None) -> list[dict[str, int]]:
    """Each text's term counts (`tokenize`), in order. Many texts are tokenized by `workers` processes (default:
    one per core): jieba is pure Python, so one process tokenizes 650k complaints in about five minutes."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(texts) < PARALLEL_MIN_TEXTS:
        return _counts_of(texts)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [texts[i:i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
    # spawn: the builder may hold a JVM gateway and its threads, which a fork would copy half-way.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [tf for part in pool.map(_counts_of, chunks) for tf in part]


def expand(text: str, tk=None) -> list[str]:
    """The legal terms the colloquial triggers in `text` stand for (tokenised, in trigger order, no repeats)."""
    norm = normalise(text)
    out: list[str] = []
    for trigger, terms in EXPANSIONS.items():
        if trigger in norm:
            for term in terms:
                for t in tokenize(term, tk):
                    if t not in out:
                        out.append(t)
    return out


def query_lexicon(words: Iterable[str]) -> tuple[dict[str, int], int]:
    """jieba's frequencies for `words` and every prefix of them (the DAG walks prefixes), with the full
    dictionary's total: a tokenizer on this lexicon cuts a query into the index's terms as the full dictionary
    would, without loading the 350,000-word dictionary (most of a cold start)."""
    full = _jieba()
    freq: dict[str, int] = {}
    for word in words:
        for end in range(1, len(word) + 1):
            prefix = word[:end]
            freq.setdefault(prefix, full.FREQ.get(prefix, 0))
    return freq, full.total


def lexicon_tokenizer(freq: dict[str, int], total: int):
    """A jieba tokenizer that knows only `freq` (from query_lexicon); its HMM still joins unknown characters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.FREQ, tk.total, tk.initialized = dict(freq), total, True
    return tk


class BM25:
    """Okapi BM25 over tokenised documents:

        score(D, Q) = Σ_{t ∈ Q} w_t · idf(t) · tf(t, D) · (k1 + 1) / (tf(t, D) + k1 · (1 − b + b · |D| / avgdl))
        idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))

    with w_t the query term's weight (1, or EXPANSION_WEIGHT for an expansion), N the number of documents, df(t)
    the number containing t, |D| a document's length in tokens and avgdl the mean length.
    """

    def __init__(self, docs: list[list[str]], k1: float = K1, b: float = B,
                 counts: list[dict[str, int]] | None = None):
        """`docs`: the documents' tokens; or `counts`, each document's term counts already made (docs ignored)."""
        self.k1, self.b = k1, b
        self.tf: list[dict[str, int]] = counts if counts is not None else [dict(Counter(d)) for d in docs]
        self.length = [sum(c.values()) for c in self.tf]
        self.n = len(self.tf)
        self.avgdl = (sum(self.length) / self.n) if self.n else 0.0
        postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.tf):
            for term in doc:
                postings[term].append(i)
        self.postings = dict(postings)
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def _norm(self, i: int) -> float:
        return self.k1 * (1 - self.b + self.b * self.length[i] / self.avgdl) if self.avgdl else self.k1

    def term_score(self, term: str, i: int) -> float:
        tf = self.tf[i].get(term, 0)
        return self.idf.get(term, 0.0) * tf * (self.k1 + 1) / (tf + self._norm(i)) if tf else 0.0

    def scores(self, query: dict[str, float]) -> dict[int, float]:
        """Document index -> score, for the documents that share at least one term with the query."""
        out: dict[int, float] = defaultdict(float)
        for term, weight in query.items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i in self.postings[term]:
                tf = self.tf[i][term]
                out[i] += weight * idf * tf * (self.k1 + 1) / (tf + self._norm(i))
        return dict(out)

    def top(self, query: dict[str, float], k: int) -> list[tuple[int, float]]:
        return sorted(self.scores(query).items(), key=lambda x: (-x[1], x[0]))[:k]

    def matched(self, query: dict[str, float], i: int, limit: int = 8) -> list[str]:
        """The query terms found in document i, the most contributing first: why it matched."""
        contrib = [(w * self.term_score(t, i), t) for t, w in query.items() if t in self.tf[i]]
        return [t for _, t in sorted(contrib, key=lambda x: (-x[0], x[1]))[:limit]]


@dataclass
class CaseHit:
    case_id: str
    category: str
    outcome: str | None
    settlement: str | None
    amount_involved: float | None
    settled_amount: float | None
    score: float
    matched_terms: list[str]
    excerpt: str
    cited_articles: list[str]
    scenario: str | None = None


@dataclass
class ArticleHit:
    ref: str
    law: str
    article: str      # as written: 第二十四条
    number: int
    chapter: str | None
    excerpt: str
    score: float
    matched_terms: list[str]
    cited_by: int     # how many of the similar cases cited it
    source_file: str


@dataclass
class Suggestion:
    query_terms: list[str]
    expanded_terms: list[str]
    category: str | None  # the category most similar cases share
    cases: list[CaseHit] = field(default_factory=list)
    articles: list[ArticleHit] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _excerpt(text: str, terms: list[str], width: int = 110) -> str:
    """The paragraph of `text` holding the most matched terms, cut to `width` characters around the first one."""
    paragraphs = [p for p in text.split("\n") if p.strip()] or [text]
    best = max(paragraphs, key=lambda p: (sum(t in p for t in terms), -paragraphs.index(p)))
    if len(best) <= width:
        return best
    first = min((best.find(t) for t in terms if t in best), default=0)
    start = max(0, min(first - width // 4, len(best) - width))
    return ("…" if start else "") + best[start:start + width] + "…"


class MediationIndex:
    """BM25 over past cases and law articles, with the cases' citations; built once, saved, queried in milliseconds."""

    def __init__(self, cases: list[Case], articles: list[Article], k1: float = K1, b: float = B,
                 previous: MediationIndex | None = None):
        """`previous`: an earlier index whose term counts are reused for the cases it holds with the same text
        (tokenizing is nearly all of a build: 650k cases take minutes), when it was built by the same tokenizer."""
        self.cases = list(cases)
        self.articles = list(articles)
        self.k1, self.b = k1, b
        self.built_at = time.strftime("%Y-%m-%d %H:%M:%S")
        self.tokenizer_key = TOKENIZER_KEY
        known = {}
        if previous is not None and getattr(previous, "tokenizer_key", None) == TOKENIZER_KEY:
            known = {c.case_id: (c.text, tf) for c, tf in zip(previous.cases, previous.case_bm25.tf)}
        counts: list[dict[str, int] | None] = []
        for c in self.cases:
            text, tf = known.get(c.case_id, (None, None))
            counts.append(tf if text == c.text else None)
        new = [i for i, tf in enumerate(counts) if tf is None]
        for i, tf in zip(new, term_counts([self.cases[i].text for i in new])):
            counts[i] = tf
        self.case_bm25 = BM25([], k1, b, counts=counts)
        self.article_bm25 = BM25([tokenize(f"{a.chapter or ''} {a.text}") for a in self.articles], k1, b)
        self.article_pos = {a.ref: i for i, a in enumerate(self.articles)}
        # Citations resolved to articles of the library (unknown citations are kept on the case, not voted).
        self.case_citations = [[self.article_pos[r] for r in c.cited_articles if r in self.article_pos]
                               for c in self.cases]
        by_category: dict[str, Counter] = defaultdict(Counter)
        size: Counter = Counter()
        for c, cited in zip(self.cases, self.case_citations):
            size[c.category] += 1
            by_category[c.category].update(set(cited))
        self.category_prior = {cat: {a: n / size[cat] for a, n in counts.items()} for cat, counts in by_category.items()}
        # What a query can match: the terms of both indexes, the expansions' terms and the domain words.
        vocabulary = set(self.case_bm25.postings) | set(self.article_bm25.postings) | set(USER_WORDS)
        vocabulary |= {t for terms in EXPANSIONS.values() for term in terms for t in tokenize(term)}
        self.lexicon = query_lexicon(vocabulary)
        self._tk = None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_tk"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _tk=None)

    def tokenizer(self):
        """The query tokenizer on the index's own lexicon (built once per process)."""
        if self._tk is None:
            self._tk = lexicon_tokenizer(*self.lexicon)
        return self._tk

    # Building and storing --------------------------------------------------------------------------------------

    @classmethod
    def build(cls, cases: Iterable[Case], articles: Iterable[Article] | None = None, k1: float = K1,
              b: float = B, previous: MediationIndex | None = None) -> MediationIndex:
        return cls(list(cases), list(articles) if articles is not None else all_articles(), k1, b, previous)

    def save(self, path: Path | None = None) -> Path:
        path = Path(path) if path else default_index_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump({"format": INDEX_FORMAT, "index": self}, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # readers never see half a file
        return path

    @classmethod
    def load(cls, path: Path | None = None) -> MediationIndex:
        path = Path(path) if path else default_index_path()
        if not path.exists():
            raise FileNotFoundError(f"没有调解检索索引 {path}：请先运行 creditlake mediate index --landing <落地区目录>")
        try:
            with open(path, "rb") as f:
                data = pickle.load(f)
        except Exception as exc:  # a truncated or foreign file
            raise ValueError(f"调解检索索引 {path} 无法读取（{type(exc).__name__}）：请重新建立索引") from None
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            raise ValueError(f"调解检索索引 {path} 的格式已过时：请运行 creditlake mediate index 重新建立")
        return data["index"]

    # Querying --------------------------------------------------------------------------------------------------

    def query_terms(self, text: str) -> tuple[dict[str, float], list[str]]:
        tk = self.tokenizer()
        terms = dict.fromkeys(tokenize(text, tk), 1.0)
        extra = [t for t in expand(text, tk) if t not in terms]
        return terms, extra

    def suggest(self, text: str, k: int = 5, mode: str = DEFAULT_MODE, neighbours: int = NEIGHBOURS,
                boost: float = BOOST) -> Suggestion:
        """Top-k similar cases and top-k articles for a complaint text.

        mode `bm25`: articles by BM25 alone; `category`: BM25 boosted by P(article | category), the categories
        weighted as the similar cases share them; `cases`: BM25 boosted by the citations of the similar cases,
        each weighted by its similarity. Boosted score = (1 − boost) · bm25 / max bm25 + boost · vote.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
        start = time.perf_counter()
        terms, extra = self.query_terms(text)
        similar = self.case_bm25.top(terms, max(k, neighbours))
        hits = [self._case_hit(i, s, terms) for i, s in similar[:k]]
        total = sum(s for _, s in similar) or 1.0
        categories: Counter = Counter()
        votes: dict[int, float] = defaultdict(float)
        cited_by: Counter = Counter()
        for i, s in similar:
            categories[self.cases[i].category] += s / total
            for a in self.case_citations[i]:
                votes[a] += s / total
                cited_by[a] += 1
        article_query = {**terms, **{t: EXPANSION_WEIGHT for t in extra}}
        bm25 = self.article_bm25.scores(article_query)
        top_bm25 = max(bm25.values(), default=0.0) or 1.0
        if mode == "bm25":
            final = dict(bm25)
        else:
            if mode == "category":
                prior: dict[int, float] = defaultdict(float)
                for cat, p in categories.items():
                    for a, pa in self.category_prior.get(cat, {}).items():
                        prior[a] += p * pa
            else:
                prior = votes
            final = {a: (1 - boost) * bm25.get(a, 0.0) / top_bm25 + boost * prior.get(a, 0.0)
                     for a in set(bm25) | set(prior)}
        ranked = sorted(final.items(), key=lambda x: (-x[1], x[0]))[:k]
        articles = []
        for a, score in ranked:
            art = self.articles[a]
            matched = self.article_bm25.matched(article_query, a)
            articles.append(ArticleHit(
                ref=art.ref, law=art.law, article=art.number_zh, number=art.number, chapter=art.chapter,
                excerpt=_excerpt(art.text, matched), score=round(score, 4), matched_terms=matched,
                cited_by=cited_by.get(a, 0), source_file=art.source_file))
        category = categories.most_common(1)[0][0] if categories else None
        return Suggestion(query_terms=list(terms), expanded_terms=extra, category=category, cases=hits,
                          articles=articles, elapsed_ms=round((time.perf_counter() - start) * 1000, 2))

    def _case_hit(self, i: int, score: float, terms: dict[str, float]) -> CaseHit:
        c = self.cases[i]
        matched = self.case_bm25.matched(terms, i)
        return CaseHit(case_id=c.case_id, category=c.category, outcome=c.outcome, settlement=c.settlement,
                       amount_involved=c.amount_involved, settled_amount=c.settled_amount, score=round(score, 4),
                       matched_terms=matched, excerpt=_excerpt(c.text, matched, 90),
                       cited_articles=list(c.cited_articles), scenario=c.scenario)


def default_index_path() -> Path:
    from creditlake.settings import get_settings

    return get_settings().home / "mediation" / "index.pkl"


def build_index_from_rows(rows: Iterable, path: Path | None = None, save: bool = True) -> MediationIndex:
    """The pipeline's entry point: build the index from samr/mediation_cases rows (e.g. the silver table's rows as
    dicts) and the law library, and save it to `path` (default: settings.home / mediation / index.pkl)."""
    cases = cases_from_rows(rows)
    if not cases:
        raise ValueError("no mediation cases to index (samr/mediation_cases has no rows with a complaint text)")
    previous = None
    try:  # the index this one replaces: its cases' term counts are reused (a month adds a few thousand cases)
        previous = MediationIndex.load(path)
    except (FileNotFoundError, ValueError):
        pass
    index = MediationIndex.build(cases, previous=previous)
    if save:
        index.save(path)
    return index


def build_index_from_landing(landing: Path, path: Path | None = None, save: bool = True) -> MediationIndex:
    """The same, from the samr/mediation_cases deliveries of a landing folder (for the CLI, tests, demos)."""
    from creditlake.mediation.corpus import landing_rows

    return build_index_from_rows(landing_rows(landing), path, save)
