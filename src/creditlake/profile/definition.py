"""What the enterprise profile (企业全景画像) shows, read from the catalogue alone: its information classes (大类), their
sub-classes (小类), each sub-class's source, columns, headings and who may read each column.

A dataset enters the profile by its catalogue entry's `profile:` block; a dataset whose rows hold several kinds of
record (`split_by`, e.g. the licence type) gives one sub-class per kind. Nothing here knows any dataset by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from creditlake.catalogue import PROFILE_CATEGORIES, Catalogue, Dataset, Source

# The readers of the profile, from least to most entitled; a role reads the columns disclosed to it and to those before.
ROLES: tuple[str, ...] = ("public", "department", "regulator")
ROLE_NAMES: dict[str, str] = {"public": "社会公众", "department": "政府部门", "regulator": "市场监管部门"}
# Flows: a dataset delivered every period keeps its newest records only (近12期), unless its entry says otherwise.
FLOW_CADENCES = ("monthly", "daily", "quarterly")
LATEST_FLOW = 12
NO_VALUE = "未注明"  # the kind of a record of a split dataset whose kind column is empty


@dataclass(frozen=True)
class ShownColumn:
    name: str
    heading: str
    disclosed_to: str  # one of ROLES
    type: str
    codes: str | None = None  # a code list of catalogue.CODE_LISTS: shown by name
    digits: int | None = None  # a double shown rounded to this many decimals


# After the catalogue's classes, what the regulator's own analyses (the gold marts) say of the enterprise.
ANALYSIS = "analysis"
CLASS_NAMES: dict[str, str] = {**PROFILE_CATEGORIES, ANALYSIS: "监管分析"}
ANALYSIS_SOURCE = "市场监管部门（平台分析）"


@dataclass(frozen=True)
class Subclass:
    id: str  # "<source>.<dataset>" or "<source>.<dataset>.<value>" for one kind of a split dataset
    category: str  # key of PROFILE_CATEGORIES
    name: str  # 小类, in Chinese
    base_name: str  # the dataset's 小类 before a split: name is "<base_name>（<split_value>）"
    source: str
    source_name: str  # the department or utility, in Chinese
    dataset: str
    dataset_name: str
    enterprise_column: str  # the column that holds the enterprise's code (or the account, for links_via)
    split_by: str | None
    split_value: str | None
    columns: tuple[ShownColumn, ...]
    order_by: str
    latest: int | None
    layer: str = "silver"  # where its rows are: silver (a catalogued dataset) or gold (an analysis)
    table: str = ""  # the lake table; "" for <source>__<dataset>
    unique: tuple[str, ...] = ()  # what identifies a record; () for the dataset's `unique`

    @property
    def category_name(self) -> str:
        return CLASS_NAMES[self.category]

    @property
    def lake_table(self) -> str:
        return self.table or f"{self.source}__{self.dataset}"


def _order_by(dataset: Dataset, shown: list[str]) -> str:
    if dataset.profile and dataset.profile.order_by:
        return dataset.profile.order_by
    dates = [c.name for c in dataset.lake_columns() if c.type in ("date", "timestamp") and c.name in shown]
    periods = [n for n in shown if n in ("period", "month", "report_year", "year")]
    return (dates or periods or [dataset.key])[0]


def dataset_subclasses(source: Source, dataset: Dataset) -> list[Subclass]:
    """The sub-classes one catalogued dataset gives the profile (none without a `profile:` entry)."""
    entry = dataset.profile
    if entry is None:
        return []
    lake = {c.name: c for c in dataset.lake_columns()}
    link = entry.enterprise_column or dataset.links_to_enterprise or (dataset.links_via and dataset.links_via.column)
    names = entry.columns or [n for n, c in lake.items() if n != link and not c.pseudonymise]
    shown = tuple(ShownColumn(n, lake[n].heading, lake[n].disclosed_to, lake[n].type, lake[n].codes)
                  for n in names if lake[n].disclosed_to is not None)
    name = entry.subclass or dataset.name_zh
    latest = entry.latest if entry.latest is not None else (LATEST_FLOW if dataset.cadence in FLOW_CADENCES else None)
    common = dict(category=entry.category, source=source.code, source_name=source.name_zh, dataset=dataset.code,
                  dataset_name=dataset.name_zh, enterprise_column=link, split_by=entry.split_by, columns=shown,
                  order_by=_order_by(dataset, [c.name for c in shown]), latest=latest)
    if entry.split_by is None:
        return [Subclass(id=f"{source.code}.{dataset.code}", name=name, base_name=name, split_value=None, **common)]
    split = lake[entry.split_by]
    values = [*(split.allowed or []), *([NO_VALUE] if split.nullable else [])]
    return [Subclass(id=f"{source.code}.{dataset.code}.{value}", name=f"{name}（{value}）", base_name=name,
                     split_value=value, **common) for value in values]


def _analysis(id_: str, name: str, table: str, dataset_name: str, unique: tuple[str, ...], order_by: str,
              latest: int | None, level: str, columns: tuple[tuple[str, str, str, int | None], ...]) -> Subclass:
    return Subclass(
        id=f"{ANALYSIS}.{id_}", category=ANALYSIS, name=name, base_name=name, source="platform",
        source_name=ANALYSIS_SOURCE, dataset=id_, dataset_name=dataset_name, enterprise_column="enterprise_id",
        split_by=None, split_value=None, order_by=order_by, latest=latest, layer="gold", table=table, unique=unique,
        columns=tuple(ShownColumn(n, h, level, t, None, d) for n, h, t, d in columns))


ANALYSES: tuple[Subclass, ...] = (
    _analysis("activity", "经营活跃度（近12个月）", "mart_enterprise_activity_monthly", "企业活跃度指数",
              ("enterprise_id", "month"), "month", 12, "department", (
                  ("month", "月份", "string", None), ("activity_index", "活跃度指数", "double", 1),
                  ("band_zh", "分档", "string", None), ("points_utility", "水电气", "double", 1),
                  ("points_tax", "纳税", "double", 1), ("points_social", "社保", "double", 1),
                  ("points_bank", "银行流水", "double", 1), ("points_invoices", "发票", "double", 1),
                  ("points_annual_report", "年报", "double", 1), ("points_bonus", "加分", "double", 1))),
    _analysis("warnings", "风险预警", "mart_warnings", "风险预警", ("warning_id",), "month", None, "regulator", (
        ("month", "月份", "string", None), ("warning_type_zh", "预警类型", "string", None),
        ("severity", "等级", "string", None), ("evidence", "依据", "string", None))),
    _analysis("lost_contact", "失联核查", "mart_lost_contact", "失联企业核查名单", ("enterprise_id",), "as_of_month",
              None, "regulator", (
                  ("as_of_month", "所属月份", "string", None), ("score", "评分", "double", 1),
                  ("priority", "优先级", "string", None), ("reasons_text", "原因", "string", None),
                  ("follow_up_status", "跟进状态", "string", None))),
)

_CACHE: dict[int, tuple[Catalogue, tuple[Subclass, ...]]] = {}


def subclasses(catalogue: Catalogue) -> tuple[Subclass, ...]:
    """Every sub-class of the profile: the catalogue's, by class in PROFILE_CATEGORIES' order, then source and
    dataset; then the analyses (computed once per catalogue object: a lookup reads it every time)."""
    held = _CACHE.get(id(catalogue))
    if held is None or held[0] is not catalogue:
        order = list(PROFILE_CATEGORIES)
        found = [sub for source, dataset in catalogue.datasets() for sub in dataset_subclasses(source, dataset)]
        held = _CACHE[id(catalogue)] = (catalogue, (*sorted(
            found, key=lambda s: (order.index(s.category), s.source, s.dataset)), *ANALYSES))
    return held[1]
