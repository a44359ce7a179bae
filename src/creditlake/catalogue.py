"""The source catalogue: one YAML per department or utility, validated on load; it drives ingestion and quality."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from creditlake.codes import GUIYANG_DIVISIONS, INDUSTRY_SECTIONS
from creditlake.settings import REPO_ROOT

CATALOGUE_DIR = REPO_ROOT / "catalogue"

# Named code lists a column may point to with `codes:`.
CODE_LISTS: dict[str, dict[str, str]] = {
    "gb2260_guiyang": GUIYANG_DIVISIONS,
    "gb4754_section": INDUSTRY_SECTIONS,
}


class CatalogueError(ValueError):
    """A catalogue file breaks the catalogue's schema; the message names the file and the field."""


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: Literal["string", "int", "decimal", "date", "timestamp", "boolean"]
    nullable: bool = True
    description: str = ""
    sensitivity: Literal["public", "internal", "personal", "secret"] = "internal"
    pseudonymise: bool = False
    # Added after senders started delivering: a delivery may leave the column out, and it reads as null. Only
    # for nullable columns, so a delivery in the older layout stays valid (docs/landing-contract.md).
    optional: bool = False
    check: Literal["uscc"] | None = None
    codes: str | None = None
    allowed: list[str] | None = None
    pattern: str | None = None
    min: float | str | None = None
    max: float | str | None = None
    # A secret number lands as the band it falls in (`<name>_band`), never as the number; see lake_columns().
    bands: list[float] | None = None
    # What a personal column may still tell once pseudonymised, derived from the clear value at bronze:
    # `valid_phone` / `valid_id_number` -> `<name>_is_valid`, `age_band` (ID numbers) -> `<name>_age_band`.
    derive: list[Literal["valid_phone", "valid_id_number", "age_band"]] = []
    derived_from: str | None = None  # set on the band column lake_columns() makes, never in YAML
    # Who may read the column in the enterprise profile (creditlake.profile): public (as the national publicity
    # system publishes), department (plus a government department's own use), regulator (everything). Unset: public
    # for a public column, department for an internal one, regulator for what is derived from a personal or secret
    # value. A pseudonymised column is never shown.
    disclosure: Literal["public", "department", "regulator"] | None = None
    label: str | None = None  # the short Chinese heading a reader sees; unset: the description without its example
    derived_sensitivity: Literal["public", "internal", "personal", "secret"] | None = None  # of derived_from; not YAML

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        if self.codes is not None and self.codes not in CODE_LISTS:
            raise ValueError(f"unknown code list {self.codes!r} (known: {', '.join(CODE_LISTS)})")
        if self.sensitivity == "personal" and not self.pseudonymise:
            raise ValueError(f"column {self.name!r} is personal: it must set pseudonymise: true")
        if self.bands is not None:
            if self.sensitivity != "secret" or self.type not in ("int", "decimal"):
                raise ValueError(f"column {self.name!r}: bands are for secret int or decimal columns")
            if not self.bands or any(a >= b for a, b in zip(self.bands, self.bands[1:])):
                raise ValueError(f"column {self.name!r}: bands must be a non-empty ascending list of edges")
        if self.derive and not self.pseudonymise:
            raise ValueError(f"column {self.name!r}: derived flags are for pseudonymised personal columns")
        if "age_band" in self.derive and "valid_id_number" not in self.derive:
            raise ValueError(f"column {self.name!r}: age_band needs valid_id_number (only a valid number has an age)")
        if self.optional and not self.nullable:
            raise ValueError(f"column {self.name!r} is optional (a delivery may leave it out): it must be nullable")
        if self.disclosure is not None and self.pseudonymise:
            raise ValueError(f"column {self.name!r} is pseudonymised: it is never disclosed, drop `disclosure`")
        return self

    @property
    def heading(self) -> str:
        """The column's Chinese heading: `label`, else the description without a trailing example (（如…）)."""
        if self.label:
            return self.label
        text = self.description or self.name
        cut = text.find("（如")
        return text[:cut] if cut > 0 else text

    @property
    def disclosed_to(self) -> str | None:
        """The lowest role that reads this column in the profile; None for a pseudonym (shown to no one)."""
        if self.pseudonymise:
            return None
        if self.disclosure:
            return self.disclosure
        if self.derived_sensitivity in ("personal", "secret"):
            return "regulator"
        return "public" if self.sensitivity == "public" else "department"

    def derived_columns(self) -> list[Column]:
        """The flags a personal column lands as beside its pseudonym (the clear value never lands)."""
        out = []
        if {"valid_phone", "valid_id_number"} & set(self.derive):
            out.append(Column(name=f"{self.name}_is_valid", type="boolean", nullable=True, sensitivity="internal",
                              derived_from=self.name, derived_sensitivity=self.sensitivity,
                              label=f"{self.heading}是否有效",
                              description=f"{self.description}：格式及校验位是否有效（由原值推导）"))
        if "age_band" in self.derive:
            out.append(Column(name=f"{self.name}_age_band", type="string", nullable=True, sensitivity="internal",
                              allowed=list(AGE_BANDS), derived_from=self.name, derived_sensitivity=self.sensitivity,
                              label=f"{self.heading}对应年龄段",
                              description=f"{self.description}：持有人年龄段（报送月末，由原值推导）"))
        return out

    def band_column(self) -> Column:
        """The column a banded secret number lands as: `<name>_band`, one of band_labels(bands)."""
        return Column(name=f"{self.name}_band", type="string", nullable=True, sensitivity="internal",
                      allowed=band_labels(self.bands or []), derived_from=self.name,
                      derived_sensitivity=self.sensitivity, label=f"{self.heading}（区间）",
                      description=f"{self.description}：所在区间（原值保密，不入湖）")


AGE_BANDS = ("<30", "30-39", "40-49", "50-59", "60-69", ">=70")


def _edge(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def band_labels(edges: list[float]) -> list[str]:
    """Labels of the bands cut by `edges`: `<e0`, `[e0,e1)`, ..., `>=en`."""
    inner = [f"[{_edge(a)},{_edge(b)})" for a, b in zip(edges, edges[1:])]
    return [f"<{_edge(edges[0])}", *inner, f">={_edge(edges[-1])}"] if edges else []


class AccountLink(BaseModel):
    """Rows keyed by an account number reach the enterprise through another dataset of the same source."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    column: str


# The information classes (大类) of the enterprise profile, in the order a reader sees them: code -> Chinese name.
PROFILE_CATEGORIES: dict[str, str] = {
    "registration": "登记备案",
    "licensing": "行政许可",
    "honours": "资质荣誉",
    "penalties": "行政处罚",
    "credit_lists": "信用名单",
    "judicial": "司法涉诉",
    "operations": "经营状况",
    "tax_social": "纳税社保",
    "utilities": "公共事业",
    "ratings": "信用评价",
    "finance": "金融信贷",
    "support": "政府扶持",
    "inspections": "监管检查",
    "complaints": "投诉调解",
}


class ProfileEntry(BaseModel):
    """Where a dataset sits in the enterprise profile (企业全景画像, creditlake.profile): its information class (大类)
    and sub-class (小类), or one sub-class per value of a category column (`split_by`), and what a reader sees."""

    model_config = ConfigDict(extra="forbid")

    category: str  # a key of PROFILE_CATEGORIES
    subclass: str | None = None  # the 小类's Chinese name; unset: the dataset's name_zh
    split_by: str | None = None  # a column with `allowed`: one 小类 per value, named "<subclass>（<value>）"
    columns: list[str] | None = None  # shown columns, in order; unset: every lake column but the enterprise link
    order_by: str | None = None  # newest first by this column; unset: the first date column, else the key
    latest: int | None = None  # only the newest N records per enterprise and 小类; unset: 12 for a monthly,
    # daily or quarterly dataset (a flow: 近12期), every record otherwise
    enterprise_column: str | None = None  # the enterprise's code, for a dataset without links_to_enterprise (the
    # registrations themselves)


class Dataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name_zh: str
    name_en: str
    description: str = ""
    cadence: Literal["daily", "monthly", "quarterly", "yearly", "event"] = "monthly"
    format: Literal["csv", "jsonl", "xlsx"] = "csv"
    encoding: Literal["utf-8", "gb18030"] = "utf-8"
    key: str
    # `at_source`: the department keeps the data; the lake never reads it and asks questions instead
    # (creditlake.at_source, docs/secret-queries.md). `lake`: deliveries are ingested.
    residency: Literal["lake", "at_source"] = "lake"
    links_to_enterprise: str | None = None
    links_via: AccountLink | None = None
    unique: list[str]
    columns: list[Column]
    profile: ProfileEntry | None = None  # absent: the dataset is not shown in the enterprise profile

    @model_validator(mode="after")
    def _keys_are_columns(self) -> Dataset:
        names = {c.name for c in self.columns}
        links = [self.links_to_enterprise] if self.links_to_enterprise else []
        links += [self.links_via.column] if self.links_via else []
        for key in [self.key, *self.unique, *links]:
            if key not in names:
                raise ValueError(f"dataset {self.code!r}: key column {key!r} is not among its columns")
            if self.column(key).sensitivity == "secret":
                raise ValueError(f"dataset {self.code!r}: key column {key!r} cannot be secret (it would land)")
        if self.profile is not None:
            self._check_profile(self.profile)
        return self

    def _check_profile(self, p: ProfileEntry) -> None:
        where = f"dataset {self.code!r}: profile"
        if p.category not in PROFILE_CATEGORIES:
            raise ValueError(f"{where}: unknown category {p.category!r} (known: {', '.join(PROFILE_CATEGORIES)})")
        if self.residency != "lake":
            raise ValueError(f"{where}: a dataset kept at its source never lands, it cannot be shown")
        lake = {c.name: c for c in self.lake_columns()}
        if p.enterprise_column is not None:
            if self.links_to_enterprise or p.enterprise_column not in lake:
                raise ValueError(f"{where}: enterprise_column is for a dataset without links_to_enterprise, and must "
                                 "be one of its columns")
        elif not (self.links_to_enterprise or self.links_via):
            raise ValueError(f"{where}: the dataset does not link to an enterprise (set enterprise_column)")
        named = [*(p.columns or []), *filter(None, [p.split_by, p.order_by])]
        for name in named:
            if name not in lake:
                raise ValueError(f"{where}: {name!r} is not a column as the dataset lands")
            if lake[name].pseudonymise:
                raise ValueError(f"{where}: {name!r} is pseudonymised and is never shown")
        if p.split_by is not None and not lake[p.split_by].allowed:
            raise ValueError(f"{where}: split_by {p.split_by!r} needs a column with `allowed` values")
        if p.latest is not None and p.latest < 1:
            raise ValueError(f"{where}: latest must be 1 or more")

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def secret_columns(self) -> list[Column]:
        return [c for c in self.columns if c.sensitivity == "secret"]

    def lake_columns(self) -> list[Column]:
        """The columns as they land in bronze and silver: a secret column never lands; one with `bands` lands
        as its band (`<name>_band`), decided at bronze like a pseudonym; a personal column with `derive` lands
        as its pseudonym followed by its flags. `columns` stays what is delivered."""
        out = []
        for c in self.columns:
            if c.sensitivity != "secret":
                out.append(c)
                out.extend(c.derived_columns())
            elif c.bands:
                out.append(c.band_column())
        return out


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name_zh: str
    name_en: str
    kind: Literal["department", "utility"]
    datasets: list[Dataset]

    @model_validator(mode="after")
    def _account_links_resolve(self) -> Source:
        codes = {d.code: d for d in self.datasets}
        for d in self.datasets:
            if d.links_via is not None:
                target = codes.get(d.links_via.dataset)
                if target is None or not target.links_to_enterprise:
                    raise ValueError(f"dataset {d.code!r}: links_via names {d.links_via.dataset!r}, which is not a "
                                     "dataset of this source with links_to_enterprise")
                if d.links_via.column not in {c.name for c in target.columns}:
                    raise ValueError(f"dataset {d.code!r}: {d.links_via.column!r} is not a column of "
                                     f"{d.links_via.dataset!r}")
        return self


class Catalogue(BaseModel):
    sources: list[Source]

    def source(self, code: str) -> Source:
        for s in self.sources:
            if s.code == code:
                return s
        raise KeyError(f"unknown source {code!r}")

    def dataset(self, source: str, dataset: str) -> Dataset:
        for d in self.source(source).datasets:
            if d.code == dataset:
                return d
        raise KeyError(f"unknown dataset {source}/{dataset}")

    def datasets(self) -> list[tuple[Source, Dataset]]:
        return [(s, d) for s in self.sources for d in s.datasets]


def table_name(source: str, dataset: str) -> str:
    """The bronze/silver table name of a dataset: `<source>__<dataset>`."""
    return f"{source}__{dataset}"


def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """Load and validate every `*.yaml` in `directory`; raise CatalogueError naming the file and field."""
    sources = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            source = Source.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise CatalogueError(f"{path}: {where}: {err['msg']}") from None
        except yaml.YAMLError as exc:
            raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
        if source.code != path.stem:
            raise CatalogueError(f"{path}: source code {source.code!r} must equal the file name {path.stem!r}")
        sources.append(source)
    if not sources:
        raise CatalogueError(f"{directory}: no catalogue files (*.yaml)")
    return Catalogue(sources=sources)


@lru_cache(maxsize=4)
def _cached(directory: Path) -> Catalogue:
    return load_catalogue(directory)


def default_catalogue() -> Catalogue:
    """The catalogue in settings.catalogue_dir (CREDITLAKE_CATALOGUE_DIR), loaded once per folder."""
    from creditlake.settings import get_settings

    return _cached(get_settings().catalogue_dir)
