"""Row-level rules from the catalogue, as pure DataFrame transforms: each row gets its first broken rule or null."""

from __future__ import annotations

from creditlake.catalogue import CODE_LISTS, Column, Dataset
from creditlake.codes import ORG_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS
from creditlake.lake import sql_literal

SPARK_TYPES = {
    "string": "string",
    "int": "bigint",
    "decimal": "decimal(20,4)",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}
USCC_PATTERN = "^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$"


def uscc_valid_sql(ref: str) -> str:
    """SQL that is true when `ref` is a GB 32100 code with both check characters right (GB 11714 and GB 32100).

    Written with higher-order functions so `ref` appears a handful of times (a flat sum of 25 terms
    makes a plan too large for Spark's code generator).
    """
    weights = ", ".join(str(w) for w in USCC_WEIGHTS)
    org_weights = ", ".join(str(w) for w in ORG_WEIGHTS)
    total = (
        f"aggregate(sequence(1, 17), 0, (acc, i) -> acc + "
        f"(instr('{USCC_ALPHABET}', substring({ref}, i, 1)) - 1) * array({weights})[i - 1])"
    )
    # GB 11714 values: digits 0-9, letters A=10 .. Z=35 (ascii - 55).
    org_total = (
        f"aggregate(sequence(1, 8), 0, (acc, i) -> acc + "
        f"(ascii(substring({ref}, 8 + i, 1)) - IF(substring({ref}, 8 + i, 1) RLIKE '[0-9]', 48, 55))"
        f" * array({org_weights})[i - 1])"
    )
    org_check = f"substring('0123456789X0', 11 - ({org_total}) % 11 + 1, 1)"
    return (
        f"(coalesce({ref} RLIKE '{USCC_PATTERN}', false) AND substring({ref}, 17, 1) = {org_check} "
        f"AND substring({ref}, 18, 1) = substring('{USCC_ALPHABET}', (31 - ({total}) % 31) % 31 + 1, 1))"
    )


def column_rules(col: Column, *, quoted=lambda name: f"`{name}`", types: dict[str, str] = SPARK_TYPES,
                 matches=lambda v, pattern: f"{v} RLIKE {sql_literal(pattern)}",
                 uscc_valid=uscc_valid_sql) -> list[tuple[str, str]]:
    """(rule, SQL that is TRUE when the row BREAKS the rule) for one column, in the order they are checked.

    Spark SQL by default; the keyword arguments give another dialect's spelling of a column name, the types, a
    regular-expression match and the USCC check (the DuckDB reference in benchmarks/duckdb_floor.py)."""
    raw = f"nullif(trim({quoted(col.name)}), '')"
    typed = f"try_cast({raw} AS {types[col.type]})"
    rules = []
    if not col.nullable:
        rules.append(("required", f"{raw} IS NULL"))
    if col.type != "string":
        rules.append(("type", f"{raw} IS NOT NULL AND {typed} IS NULL"))
    if col.check == "uscc":
        rules.append(("uscc_check", f"{raw} IS NOT NULL AND NOT {uscc_valid(raw)}"))
    if col.codes:
        codes = ", ".join(f"'{c}'" for c in CODE_LISTS[col.codes])
        rules.append(("code_list", f"{raw} IS NOT NULL AND {raw} NOT IN ({codes})"))
    if col.allowed:
        allowed = ", ".join(f"'{c}'" for c in col.allowed)
        rules.append(("allowed_values", f"{raw} IS NOT NULL AND {raw} NOT IN ({allowed})"))
    if col.pattern:
        rules.append(("pattern", f"{raw} IS NOT NULL AND NOT {matches(raw, col.pattern)}"))
    bound = (lambda v: f"DATE'{v}'") if col.type == "date" else (lambda v: str(v))
    if col.min is not None:
        rules.append(("range", f"{typed} < {bound(col.min)}"))
    if col.max is not None:
        rules.append(("range", f"{typed} > {bound(col.max)}"))
    return rules


def with_rule_violations(df, dataset: Dataset):
    """Add `_rule`, `_rule_column` and `_rule_value`: the first rule the row breaks (null when it breaks none).

    Each rule's SQL appears once in the plan (an array of the broken rules, first element taken), which keeps
    the generated code small enough for Spark to compile quickly even for wide datasets.
    """
    from pyspark.sql import functions as F

    checks = []
    for col in dataset.columns:
        if col.sensitivity == "secret":
            # Checked at bronze, on the delivered value, which never lands: the rule and column, not the value.
            if col is dataset.secret_columns[0]:
                checks.append(_secret_check(df, dataset))
            if not col.bands:
                continue
            col = col.band_column()
        checks += [
            F.when(F.coalesce(F.expr(broken), F.lit(False)),
                   F.struct(F.lit(name).alias("rule"), F.lit(col.name).alias("column"),
                            F.col(col.name).cast("string").alias("value")))
            for name, broken in column_rules(col)
        ]
    if not checks:
        return df.withColumns({c: F.lit(None).cast("string") for c in ("_rule", "_rule_column", "_rule_value")})
    first = F.get(F.filter(F.array(*checks), lambda x: x.isNotNull()), 0)  # null when nothing is broken
    df = df.withColumn("_first_broken", first)
    return df.withColumns({
        "_rule": F.col("_first_broken.rule"), "_rule_column": F.col("_first_broken.column"),
        "_rule_value": F.col("_first_broken.value"),
    }).drop("_first_broken")


SECRET_RULE = "_secret_rule"  # bronze only: "rule:column" of the first rule a secret value broke, or null


def _secret_check(df, dataset: Dataset):
    from pyspark.sql import functions as F

    if SECRET_RULE not in df.columns:
        raise ValueError(f"dataset {dataset.code!r} has secret columns but its bronze rows lack {SECRET_RULE}: "
                         "they must be read through creditlake.ingest.bronze.with_secrets_derived")
    rule = F.col(SECRET_RULE)
    return F.when(rule.isNotNull(), F.struct(F.substring_index(rule, ":", 1).alias("rule"),
                                             F.substring_index(rule, ":", -1).alias("column"),
                                             F.lit(None).cast("string").alias("value")))


def _mark(df, hit, rule: str, column, value):
    """Set the row's rule (with column and value) where `hit` and no earlier rule is broken."""
    from pyspark.sql import functions as F

    hit = F.col("_rule").isNull() & hit
    return df.withColumns({  # one projection, each against the row as it came (withColumn per column re-analyses)
        "_rule_column": F.when(hit, column).otherwise(F.col("_rule_column")),
        "_rule_value": F.when(hit, value).otherwise(F.col("_rule_value")),
        "_rule": F.when(hit, F.lit(rule)).otherwise(F.col("_rule")),
    })


def with_duplicates_marked(df, dataset: Dataset):
    """Mark later copies of a unique key within one delivery as `duplicate` (the first in file order is kept)."""
    from pyspark.sql import Window, functions as F

    w = Window.partitionBy("_period", *[F.trim(F.col(c)) for c in dataset.unique]).orderBy("_row_number")
    return _mark(df, F.row_number().over(w) > 1, "duplicate", F.lit(",".join(dataset.unique)),
                 F.lit(None).cast("string"))


RESENDABLE = ("event", "daily")  # datasets whose records happen once: a copy in a later month is a resend


def with_resent_marked(df, dataset: Dataset, earlier=None):
    """Mark `resent`: an event record (same key, same content) already delivered in an earlier month.

    `earlier` holds the months loaded before (silver rows with `_period` and `_record_hash`). Periodic datasets
    (monthly readings, yearly reports, snapshots) legitimately repeat keys, so only event datasets are checked;
    a changed record under the same key is a correction and is kept.
    """
    from pyspark.sql import Window, functions as F

    if dataset.cadence not in RESENDABLE:
        return df
    keys = [F.trim(F.col(c)) for c in dataset.unique]
    w = Window.partitionBy(*keys, "_record_hash")
    hit = F.min("_period").over(w) < F.col("_period")
    first = F.lit(None).cast("string")
    if earlier is not None:
        seen = earlier.groupBy(*[F.trim(F.col(c)).alias(f"_seen_{c}") for c in dataset.unique],
                               F.col("_record_hash").alias("_seen_hash")).agg(F.min("_period").alias("_seen_period"))
        cond = [df["_record_hash"] == seen["_seen_hash"]] + [
            F.trim(df[c]) == seen[f"_seen_{c}"] for c in dataset.unique]
        df = df.join(seen, cond, "left")
        hit = hit | (F.col("_seen_period") < F.col("_period"))
        first = F.col("_seen_period")
    marked = _mark(df, hit, "resent", F.lit(",".join(dataset.unique)),
                   F.coalesce(first, F.min("_period").over(w)))
    return marked.drop(*[c for c in marked.columns if c.startswith("_seen_")])


def with_enterprise_link(df, dataset: Dataset, enterprises):
    """Mark rows whose enterprise key is not a registered enterprise (`unknown_enterprise`)."""
    from pyspark.sql import functions as F

    if not dataset.links_to_enterprise or enterprises is None:
        return df
    key = dataset.links_to_enterprise
    known = enterprises.select(F.col("uscc").alias("_known_uscc")).distinct().withColumn("_is_known", F.lit(True))
    joined = df.join(F.broadcast(known), F.trim(df[key]) == known["_known_uscc"], "left")
    marked = _mark(joined, F.col("_is_known").isNull(), "unknown_enterprise", F.lit(key), F.col(key))
    return marked.drop("_known_uscc", "_is_known")


def with_typed_columns(df, dataset: Dataset):
    """Cast every landed column from its delivered string to its declared type (trimmed, '' as null)."""
    from pyspark.sql import functions as F

    return df.withColumns({col.name: F.expr(f"try_cast(nullif(trim(`{col.name}`), '') AS {SPARK_TYPES[col.type]})")
                           for col in dataset.lake_columns()})
