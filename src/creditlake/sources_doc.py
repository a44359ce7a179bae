"""Render docs/sources.md from the catalogue: what every department and utility delivers, column by column.

`uv run python -m creditlake.sources_doc` rewrites the file; a test checks that it equals the rendering, so the
document never drifts from `catalogue/*.yaml`.
"""

from __future__ import annotations

from creditlake.catalogue import Catalogue, Column, Dataset, Source, table_name
from creditlake.settings import REPO_ROOT

SOURCES_MD = REPO_ROOT / "docs" / "sources.md"
COMMAND = "uv run python -m creditlake.sources_doc"
KIND_ORDER = {"department": 0, "utility": 1}


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, line breaks flattened)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _number(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rule(col: Column) -> str:
    """The row rules a column carries beyond type and nullability, as one cell."""
    parts = []
    if col.check:
        parts.append(f"check: {col.check}")
    if col.codes:
        parts.append(f"codes: {col.codes}")
    if col.allowed:
        parts.append("allowed: " + _cell(" / ".join(col.allowed)))
    if col.pattern:
        parts.append(f"pattern: {_code(col.pattern)}")
    if col.min is not None and col.max is not None:
        parts.append(f"range: {_number(col.min)} .. {_number(col.max)}")
    elif col.min is not None:
        parts.append(f"range: ≥ {_number(col.min)}")
    elif col.max is not None:
        parts.append(f"range: ≤ {_number(col.max)}")
    return "; ".join(parts)


def _sensitivity(col: Column) -> str:
    if col.pseudonymise:
        return f"{col.sensitivity} (pseudonymised)"
    if col.sensitivity == "secret":
        return f"secret (lands as `{col.name}_band`)" if col.bands else "secret (never lands)"
    return col.sensitivity


def _link(source: Source, dataset: Dataset) -> str:
    if dataset.links_to_enterprise:
        return f"`{dataset.links_to_enterprise}`"
    if dataset.links_via:
        via = dataset.links_via
        return f"`{via.column}` → `{source.code}/{via.dataset}`"
    return "— (the enterprise spine itself, keyed on `uscc`)" if dataset.key == "uscc" else "—"


def _ordered(catalogue: Catalogue) -> list[Source]:
    return sorted(catalogue.sources, key=lambda s: (KIND_ORDER[s.kind], s.code))


def _dataset_section(source: Source, dataset: Dataset) -> list[str]:
    lines = [
        f"### {source.code}/{dataset.code} — {dataset.name_zh} ({dataset.name_en})",
        "",
    ]
    if dataset.description:
        lines += [" ".join(dataset.description.split()), ""]
    lines += [
        f"Table `{table_name(source.code, dataset.code)}` · cadence {dataset.cadence} · {dataset.format}, "
        f"{dataset.encoding} · key `{dataset.key}` · unique ({', '.join(f'`{c}`' for c in dataset.unique)}) · "
        f"enterprise link {_link(source, dataset)}"
        + (" · **kept at source**: never ingested; asked for flags ([secret-queries.md](secret-queries.md))"
           if dataset.residency == "at_source" else ""),
        "",
        "| column | type | nullable | sensitivity | rule | description |",
        "|---|---|---|---|---|---|",
    ]
    for col in dataset.columns:
        lines.append(
            f"| `{col.name}` | {col.type} | {'yes (optional column)' if col.optional else 'yes' if col.nullable else 'no'} | "
            f"{_sensitivity(col)} | "
            f"{_rule(col)} | {_cell(col.description)} |"
        )
    lines.append("")
    return lines


# The reference generation the distribution table describes (what `creditlake generate --seed 42` builds).
REFERENCE = {"enterprises": 20_000, "start": "2023-01", "end": "2024-12", "seed": 42}


def _generated_data_section() -> list[str]:
    """Distributions of the generator's hidden world next to the published figures it imitates."""
    import random

    from creditlake.codes import GUIYANG_DIVISIONS, INDUSTRY_SECTIONS
    from creditlake.generate.landing_zone import summarise
    from creditlake.generate.world import DIVISION_SHARES, INDUSTRY_SHARES, build_world
    from creditlake.periods import month_range

    ref = REFERENCE
    summary = summarise(build_world(ref["enterprises"], month_range(ref["start"], ref["end"]),
                                    random.Random(ref["seed"])))
    published_exit = {"1": 0.016, "2": 0.063, "3": 0.095}
    cumulative, published_survival = 1.0, {}
    for age in range(1, 6):
        cumulative *= 1 - published_exit.get(str(age), 0.08)
        published_survival[str(age)] = cumulative
    lines = [
        "## Generated data compared with published figures",
        "",
        f"`creditlake generate` builds a hidden world and writes every dataset above from it. For "
        f"{ref['enterprises']:,} enterprises, {ref['start']}..{ref['end']}, seed {ref['seed']} (figures at the "
        "end of the window; regenerated with this page):",
        "",
        "| measure | generated | published | source |",
        "|---|---|---|---|",
    ]
    for age in range(1, 6):
        lines.append(f"| survival to age {age} (share of a cohort still registered) | "
                     f"{summary['survival_by_age'][str(age)]:.1%} | {published_survival[str(age)]:.1%} | "
                     "SAIC 2013, 全国内资企业生存时间分析报告: yearly exit 1.6%, 6.3%, 9.5%, then about 8% |")
    lines += [
        f"| annual reports for {summary['annual_report_year']} filed by 30 June | "
        f"{summary['annual_report_on_time_rate']:.1%} | 87.55% (2013), 85.12% (2014) | State Council news, "
        "2015-07-10 |",
        f"| live enterprises that stopped operating inside the window | {summary['dormant_share']:.1%} | "
        "about 30% inactive, implied by \"about 70%\" activity (no published method) | national statements |",
        f"| lost-contact enterprises (planted) | {summary['lost_contact']:,} | — | the truth file lists them |",
        "",
        "| division | generated share | target share |",
        "|---|---|---|",
    ]
    for code, share in summary["district_share"].items():
        lines.append(f"| {code} {GUIYANG_DIVISIONS[code]} | {share:.1%} | {DIVISION_SHARES[code]:.1%} |")
    lines += ["", "| GB/T 4754 section | generated share | target share |", "|---|---|---|"]
    for code, share in summary["industry_share"].items():
        lines.append(f"| {code} {INDUSTRY_SECTIONS[code]} | {share:.1%} | {INDUSTRY_SHARES.get(code, 0):.1%} |")
    lines += [
        "",
        "Target shares of divisions and sections are the generator's assumptions for a services-led provincial "
        "capital (central districts and wholesale/retail largest), not published statistics: replace them with "
        "the city's own register shares when available. Survival is measured on registrations, so it includes "
        "firms that stopped operating without deregistering.",
        "",
    ]
    return lines


def render_sources_md(catalogue: Catalogue) -> str:
    """The whole of docs/sources.md for `catalogue`; deterministic (sources by kind, then code)."""
    sources = _ordered(catalogue)
    datasets = [d for s in sources for d in s.datasets]
    columns = [c for d in datasets for c in d.columns]

    def count(pred) -> int:
        return sum(1 for c in columns if pred(c))

    formats = sorted({d.format for d in datasets})
    encodings = sorted({d.encoding for d in datasets})
    lines = [
        "# Sources",
        "",
        f"<!-- Generated from catalogue/*.yaml by `{COMMAND}`. Do not edit by hand: edit the catalogue and "
        "rerun the command. -->",
        "",
        "What every department and utility delivers to the lake, dataset by dataset and column by column. The "
        "catalogue (`catalogue/<source>.yaml`) is the single source of this page, of the row rules applied on the "
        "way to silver and of the Great Expectations suites; see [the landing contract](landing-contract.md) for how "
        "a delivery is checked.",
        "",
        "## Counts",
        "",
        "| what | count |",
        "|---|---|",
        f"| departments | {sum(1 for s in sources if s.kind == 'department')} |",
        f"| utilities | {sum(1 for s in sources if s.kind == 'utility')} |",
        f"| datasets | {len(datasets)} |",
        f"| columns | {len(columns)} |",
        f"| personal columns (all pseudonymised) | {count(lambda c: c.sensitivity == 'personal')} |",
        f"| pseudonymised columns (personal and enterprise bank accounts) | {count(lambda c: c.pseudonymise)} |",
        f"| secret columns (may not be copied out of the department) | {count(lambda c: c.sensitivity == 'secret')} |",
        "",
        "Formats: " + ", ".join(f"{f} ({sum(1 for d in datasets if d.format == f)})" for f in formats)
        + ". Encodings: " + ", ".join(f"{e} ({sum(1 for d in datasets if d.encoding == e)})" for e in encodings)
        + ".",
        "",
        "Sensitivity: `public` may be published (double-publicity records, licences, lists); `internal` stays inside "
        "the lake's users; `personal` is personal information and is replaced by a keyed pseudonym before anything "
        "is written; `secret` is data the department may not copy out (tax arrears, loan defaults, statistical "
        "returns, bank balances): it is dropped before anything is written, or lands as its band where the column "
        "sets `bands`; a dataset kept at source is never ingested and answers questions with flags "
        "([secret-queries.md](secret-queries.md)).",
        "",
        *_generated_data_section(),
        "## Sources",
        "",
        "| code | 中文名 | English | kind | datasets |",
        "|---|---|---|---|---|",
    ]
    for s in sources:
        codes = ", ".join(d.code for d in s.datasets)
        lines.append(f"| `{s.code}` | {_cell(s.name_zh)} | {_cell(s.name_en)} | {s.kind} | "
                     f"{len(s.datasets)}: {codes} |")
    lines.append("")
    for s in sources:
        lines += [f"## {s.code} — {s.name_zh} ({s.name_en})", "", f"Kind: {s.kind}. Datasets: {len(s.datasets)}.", ""]
        for d in s.datasets:
            lines += _dataset_section(s, d)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_sources_md(catalogue: Catalogue, path=SOURCES_MD):
    path.write_text(render_sources_md(catalogue), encoding="utf-8")
    return path


if __name__ == "__main__":  # regenerate docs/sources.md after a catalogue change
    from creditlake.catalogue import load_catalogue

    print(write_sources_md(load_catalogue()))
