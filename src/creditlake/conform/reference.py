"""Reference tables in silver from the official code lists in creditlake.codes (one source of truth for dbt too)."""

from __future__ import annotations

from creditlake.codes import GUIYANG_DIVISIONS, INDUSTRY_SECTIONS
from creditlake.settings import Settings
from creditlake.spark import table_path

CITY_CODE = "520100"  # 贵阳市


def reference_frames(spark) -> dict:
    """Pure: the reference tables as DataFrames, keyed by table name."""
    divisions = spark.createDataFrame(
        [(code, name, CITY_CODE, "贵阳市") for code, name in GUIYANG_DIVISIONS.items()],
        "district_code string, district_name string, city_code string, city_name string",
    )
    sections = spark.createDataFrame(list(INDUSTRY_SECTIONS.items()), "industry_code string, industry_name string")
    return {"ref_divisions": divisions, "ref_industry_sections": sections}


def write_reference_tables(spark, settings: Settings) -> None:
    """Overwrite the reference tables (small, deterministic: a rerun writes the same rows); skipped when the code
    lists have not changed since they were written."""
    import sys

    from creditlake import codes
    from creditlake.lake import code_fingerprint, is_built_from, record_built_from, table_version

    frames = reference_frames(spark)

    def inputs() -> dict:  # the tables as last written (a table removed since is written again)
        return {"code": code_fingerprint(codes, sys.modules[__name__]),
                "versions": [table_version("silver", name, settings) for name in frames]}

    if is_built_from("silver.reference", inputs(), settings=settings):
        return
    for name, df in frames.items():
        path = table_path("silver", name, settings)
        df.coalesce(1).write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(str(path))
        spark.sql(f"CREATE TABLE IF NOT EXISTS silver.{name} USING delta LOCATION '{path}'")
    record_built_from("silver.reference", inputs(), settings)
