"""Great Expectations suites for silver tables: generated from the catalogue into expectations/, run on DataFrames."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from creditlake.catalogue import CODE_LISTS, Catalogue, Dataset, table_name
from creditlake.conform.rules import SPARK_TYPES, USCC_PATTERN
from creditlake.settings import REPO_ROOT

log = logging.getLogger(__name__)
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


class QualityError(RuntimeError):
    """A silver table breaks its suite; the message lists the failed expectations."""


@dataclass
class SuiteResult:
    suite: str
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)


def suite_from_dataset(source: str, dataset: Dataset) -> dict:
    """The silver suite implied by the catalogue: required, code lists, patterns, ranges and keys."""
    exps: list[dict] = []
    for col in dataset.lake_columns():
        if not col.nullable:
            exps.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": col.name}})
        if col.check == "uscc":
            exps.append({"type": "expect_column_values_to_match_regex",
                         "kwargs": {"column": col.name, "regex": USCC_PATTERN}})
        if col.codes:
            exps.append({"type": "expect_column_values_to_be_in_set",
                         "kwargs": {"column": col.name, "value_set": sorted(CODE_LISTS[col.codes])}})
        if col.allowed:
            exps.append({"type": "expect_column_values_to_be_in_set",
                         "kwargs": {"column": col.name, "value_set": list(col.allowed)}})
        if col.pattern:
            exps.append({"type": "expect_column_values_to_match_regex",
                         "kwargs": {"column": col.name, "regex": col.pattern}})
        if (col.min is not None or col.max is not None) and col.type in ("int", "decimal"):
            exps.append({"type": "expect_column_values_to_be_between",
                         "kwargs": {"column": col.name, "min_value": col.min, "max_value": col.max}})
    # Unique within a delivery (a month): a corrected record in a later month is kept beside the earlier one.
    exps.append({"type": "expect_compound_columns_to_be_unique",
                 "kwargs": {"column_list": [*dataset.unique, "_period"]}})
    exps.append({"type": "expect_table_columns_to_match_set",
                 "kwargs": {"column_set": [c.name for c in dataset.lake_columns()], "exact_match": False}})
    return {
        "name": f"silver.{table_name(source, dataset.code)}",
        "expectations": exps,
        "meta": {"generated_from": f"catalogue/{source}.yaml", "column_types": {c.name: SPARK_TYPES[c.type]
                                                                                 for c in dataset.lake_columns()}},
    }


def suite_path(name: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / "generated" / f"{name}.json"


def write_suites(catalogue: Catalogue, directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """(Re)write every generated suite; hand-written suites live in expectations/custom/ and are never touched."""
    paths = []
    for source, dataset in catalogue.datasets():
        if dataset.residency == "at_source":  # never in silver
            suite_path(f"silver.{table_name(source.code, dataset.code)}", directory).unlink(missing_ok=True)
            continue
        suite = suite_from_dataset(source.code, dataset)
        path = suite_path(suite["name"], directory)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(suite, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(name: str, directory: Path = EXPECTATIONS_DIR) -> dict:
    """The generated suite of `name` plus the expectations of expectations/custom/<name>.json, if any."""
    suite = json.loads(suite_path(name, directory).read_text(encoding="utf-8"))
    custom = directory / "custom" / f"{name}.json"
    if custom.exists():
        suite["expectations"] += json.loads(custom.read_text(encoding="utf-8"))["expectations"]
    return suite


class Validations:
    """One Great Expectations context for many suites, which may run side by side in threads: each run gets its own
    Spark data source, so its own execution engine, whose batch manager holds only that run's batch (GE resolves
    metrics against the engine's active batch). The context's in-memory stores are written under a lock."""

    def __init__(self):
        import threading

        import great_expectations as gx

        self.context = gx.get_context(mode="ephemeral")
        self.lock = threading.Lock()
        self.runs = 0

    def run(self, df, name: str, expectations: list[dict], result_format: str):
        import great_expectations as gx

        with self.lock:
            self.runs += 1
            source_name = f"creditlake-{self.runs}"
            source = self.context.data_sources.add_spark(name=source_name)
            batches = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("all")
        try:
            batch = batches.get_batch(batch_parameters={"dataframe": df})
            return batch.validate(gx.ExpectationSuite(name=name, expectations=expectations),
                                  result_format=result_format)
        finally:
            with self.lock:
                self.context.data_sources.delete(source_name)  # and the engine's reference to the batch


def validate(df, suite: dict, validations: Validations | None = None) -> SuiteResult:
    """Run one suite on a Spark DataFrame through Great Expectations (whole-frame batch; `validations`: the run's
    context, a fresh ephemeral one when None).

    Two passes: BOOLEAN_ONLY first, which lets GE bundle the unexpected counts into few aggregations (about a
    third of the Spark jobs of its default SUMMARY format, which also fetches unexpected examples for every
    expectation); then, only when something failed, the failed expectations again with SUMMARY, so the error
    names the column and shows the unexpected values."""
    validations = validations or Validations()
    result = validations.run(df, suite["name"], suite["expectations"], "BOOLEAN_ONLY")
    if result.success:
        return SuiteResult(suite["name"], True, len(result.results))
    failed_configs = [r.expectation_config for r in result.results if not r.success]
    detail = validations.run(df, suite["name"], [{"type": c.type, "kwargs": dict(c.kwargs)} for c in failed_configs],
                             "SUMMARY")
    failed = []
    for r in detail.results:
        cfg = r.expectation_config
        column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list")
        unexpected = (r.result or {}).get("partial_unexpected_list") or []
        failed.append(f"{cfg.type}({column}) unexpected {unexpected[:3]}")
    return SuiteResult(suite["name"], False, len(result.results), failed)


def check_silver(spark, settings, catalogue: Catalogue, periods: list[str],
                 sources: list[str] | None = None) -> list[SuiteResult]:
    """Validate the given periods of every silver table (of `sources`), `settings.dataset_threads` tables at a
    time; raise QualityError if any suite fails. A table whose months were validated at its current version
    against the same suite is not validated again."""
    from creditlake.spark import for_each_concurrently

    tables = [table_name(source.code, dataset.code) for source, dataset in catalogue.datasets()
              if not (sources and source.code not in sources)]
    validations = Validations()
    results = [r for r in for_each_concurrently(lambda t: _check_table(spark, settings, t, periods, validations),
                                                tables, settings.dataset_threads) if r is not None]
    bad = [r for r in results if not r.success]
    if bad:
        raise QualityError("; ".join(f"{r.suite}: {', '.join(r.failed)}" for r in bad))
    return results


def _check_table(spark, settings, table: str, periods: list[str], validations: Validations) -> SuiteResult | None:
    """One silver table's months against its suite; None when there is nothing to validate (no table yet, or these
    months of this version validated against this suite already)."""
    from pyspark.sql import functions as F

    from creditlake.lake import is_built_from, read_table, record_built_from, table_version

    suite = load_suite(f"silver.{table}") if (settings.lake / "silver" / table).is_dir() else None
    inputs = {"silver": table_version("silver", table, settings),
              "suite": hashlib.sha256(json.dumps(suite, sort_keys=True).encode()).hexdigest()[:16]}
    if inputs["silver"] is None or is_built_from(f"quality.{table}", inputs, periods, settings):
        return None
    df = read_table(spark, "silver", table, settings)
    # GE runs several Spark jobs per suite: read the months once, not once per job.
    months = df.where(F.col("_period").isin(periods)).persist()
    try:
        result = validate(months, suite, validations)
    finally:
        months.unpersist()
    log.info("suite %s: %s (%d expectations)", result.suite, "passed" if result.success else "FAILED",
             result.evaluated)
    if result.success:
        record_built_from(f"quality.{table}", {**inputs, "periods": sorted(periods)}, settings)
    return result


if __name__ == "__main__":  # regenerate expectations/generated/ after a catalogue change
    from creditlake.catalogue import load_catalogue

    for written in write_suites(load_catalogue()):
        print(written)
