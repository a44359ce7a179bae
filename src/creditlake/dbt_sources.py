"""dbt's view of silver, generated from the catalogue: one dbt source per department, one table per dataset.

Column names and Spark types come from the catalogue, so dbt (and the `silver_source` macro, which stands in an
empty relation for a dataset not delivered yet) always agrees with what ingestion wrote. Regenerate after a
catalogue change with `python -m creditlake.dbt_sources`; a test fails while the file is stale.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from creditlake.catalogue import Catalogue, load_catalogue, table_name
from creditlake.conform.rules import SPARK_TYPES
from creditlake.settings import REPO_ROOT

SOURCES_FILE = REPO_ROOT / "dbt_project" / "models" / "staging" / "_silver__sources.yml"
LINEAGE_TYPES = {
    "_source": "string", "_dataset": "string", "_period": "string", "_file": "string", "_row_number": "bigint",
    "_delivery_id": "string", "_ingested_at": "timestamp", "_record_hash": "string",
}


def sources_yaml(catalogue: Catalogue) -> dict:
    """The dbt sources document for every catalogued dataset (silver tables are `<source>__<dataset>`), with the
    columns as they land (no secret value); a dataset kept at its source has no silver table, only its flags."""
    from creditlake.at_source.query import FLAG_TABLES, flag_table_schema

    sources = []
    for source in catalogue.sources:
        tables = []
        for dataset in source.datasets:
            if dataset.residency == "at_source":
                if (source.code, dataset.code) in FLAG_TABLES:
                    tables.append({
                        "name": FLAG_TABLES[(source.code, dataset.code)],
                        "description": f"{dataset.name_zh}：数据不出域，仅核验标志 (flags answered at source, "
                                       "docs/secret-queries.md).",
                        "columns": [{"name": n, "data_type": t, "description": "flag answered at source"
                                     if t == "boolean" else ""} for n, t in flag_table_schema(source.code,
                                                                                              dataset.code)]})
                continue
            columns = [{"name": c.name, "data_type": SPARK_TYPES[c.type], "description": c.description}
                       for c in dataset.lake_columns()]
            columns += [{"name": n, "data_type": t, "description": "lineage"} for n, t in LINEAGE_TYPES.items()]
            tables.append({"name": table_name(source.code, dataset.code),
                           "description": f"{dataset.name_zh} ({dataset.name_en}), conformed in silver.",
                           "columns": columns})
        sources.append({"name": source.code, "description": f"{source.name_zh} ({source.name_en})",
                        "schema": "silver", "tables": tables})
    return {"version": 2, "sources": sources}


def render(catalogue: Catalogue) -> str:
    header = "# Generated from catalogue/ by `python -m creditlake.dbt_sources`: do not edit by hand.\n"
    return header + yaml.safe_dump(sources_yaml(catalogue), allow_unicode=True, sort_keys=False, width=120)


def write_sources(catalogue: Catalogue, path: Path = SOURCES_FILE) -> Path:
    path.write_text(render(catalogue), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_sources(load_catalogue()))
