"""Read a dataset's checked deliveries into one bronze DataFrame: raw strings as delivered, pseudonyms, lineage."""

from __future__ import annotations

from datetime import datetime, timezone

from creditlake.catalogue import Dataset, band_labels
from creditlake.ingest.landing import CheckedDelivery, delivered_rows
from creditlake.pseudonymise import pseudonym_column

LINEAGE = ["_source", "_dataset", "_period", "_file", "_row_number", "_delivery_id", "_ingested_at", "_record_hash"]


def read_deliveries(spark, checked: list[CheckedDelivery], dataset: Dataset):
    """All the checked deliveries of one dataset in one read: its columns as delivered strings, `_period` and the
    1-based `_row_number` (header excluded; JSON Lines: the line).

    Spark reads CSV (UTF-8 and GB18030, one kind of line ending per file) and JSON Lines, every file of the run in
    one job; Excel, and CSV with mixed line endings, are read here by the readers that checked them.
    """
    from functools import reduce

    by_spark = [c for c in checked if dataset.format == "jsonl" or (dataset.format == "csv" and c.one_line_ending)]
    here = [c for c in checked if c not in by_spark]
    frames = []
    if by_spark:
        frames.append(_spark_jsonl(spark, by_spark, dataset) if dataset.format == "jsonl"
                      else _spark_csv(spark, by_spark, dataset))
    if here:
        frames.append(_driver_rows(spark, here, dataset))
    return reduce(lambda a, b: a.unionByName(b), frames)


def _period_of_file():
    """A delivery's period is its folder's name: `<landing>/<source>/<dataset>/<YYYY-MM>/<file>`."""
    from pyspark.sql import functions as F

    return F.element_at(F.split(F.col("_metadata.file_path"), "/"), -2).alias("_period")


def _spark_csv(spark, checked: list[CheckedDelivery], dataset: Dataset):
    from pyspark.sql import functions as F, types as T

    width = max(len(c.header) for c in checked)
    schema = T.StructType([T.StructField(f"_c{i}", T.StringType()) for i in range(width)])
    # Columns by position, so order and names are each file's header (BOM, extra and reordered columns alike).
    # multiLine keeps every file whole in one partition, read in file order: a row's generated id less its
    # file's first id (the header's) is its row number.
    raw = (
        spark.read.option("header", "false")
        .option("encoding", dataset.encoding)
        .option("multiLine", "true")
        .option("escape", '"')
        .schema(schema)
        .csv([str(c.file) for c in checked])
        .select("*", _period_of_file(), F.monotonically_increasing_id().alias("_id"))
    )
    # Each file's first id (its header's), from one small aggregate joined back: no shuffle of the rows themselves.
    firsts = raw.groupBy("_period").agg(F.min("_id").alias("_first"))
    raw = raw.join(F.broadcast(firsts), "_period").withColumn("_row_number", F.col("_id") - F.col("_first"))
    layouts: dict[tuple[str, ...], list[str]] = {}
    for c in checked:
        layouts.setdefault(c.header, []).append(c.delivery.period)

    def at(header: tuple[str, ...], name: str):
        # An optional column a delivery left out (an older layout) reads as null.
        return F.col(f"_c{header.index(name)}") if name in header else F.lit(None).cast("string")

    def column(name: str):
        first, *others = layouts
        if not others:
            return at(first, name).alias(name)
        value = F.when(F.col("_period").isin(layouts[first]), at(first, name))
        for header in others:
            value = value.when(F.col("_period").isin(layouts[header]), at(header, name))
        return value.alias(name)

    return raw.where(F.col("_row_number") > 0).select(*[column(c.name) for c in dataset.columns], "_period",
                                                       "_row_number")


def _spark_jsonl(spark, checked: list[CheckedDelivery], dataset: Dataset):
    from pyspark.sql import Window, functions as F, types as T

    # Spark's JSON reader keeps a number as written in a string field (12.50 stays 12.50; from_json would not).
    schema = T.StructType([T.StructField(c.name, T.StringType()) for c in dataset.columns])
    raw = (
        spark.read.schema(schema).json([str(c.file) for c in checked])
        .select("*", _period_of_file(), F.col("_metadata.file_block_start").alias("_block"),
                F.monotonically_increasing_id().alias("_id"))
    )
    # A file may be split into blocks, each read in order: a row's place in its file is the rows of the blocks
    # before its own plus its place in its block; blank lines (skipped by the reader) then give its line number.
    # Per block, one small aggregate (its first id, its rows), joined back: no shuffle of the rows themselves.
    before = (raw.groupBy("_period", "_block").agg(F.min("_id").alias("_first"), F.count("*").alias("_n"))
              .select("_period", "_block", "_first", F.coalesce(F.sum("_n").over(
                  Window.partitionBy("_period").orderBy("_block").rowsBetween(Window.unboundedPreceding, -1)),
                  F.lit(0)).alias("_before")))
    place = F.col("_before") + (F.col("_id") - F.col("_first")) + 1
    number = place
    if any(c.blanks_after_rows for c in checked):
        blanks = F.create_map(*[x for c in checked for x in (F.lit(c.delivery.period), F.array(
            *[F.lit(b) for b in c.blanks_after_rows]).cast("array<long>"))])[F.col("_period")]
        number = place + F.size(F.filter(F.coalesce(blanks, F.array().cast("array<long>")), lambda b: b < place))
    return raw.join(F.broadcast(before), ["_period", "_block"]).select(
        *[c.name for c in dataset.columns], "_period", number.cast("long").alias("_row_number"))


def _driver_rows(spark, checked: list[CheckedDelivery], dataset: Dataset):
    from pyspark.sql import types as T

    names = [c.name for c in dataset.columns]
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names]
                          + [T.StructField("_period", T.StringType()), T.StructField("_row_number", T.LongType())])
    rows = [(*(values.get(n) for n in names), c.delivery.period, number)
            for c in checked for number, values in delivered_rows(c.file, dataset)]
    return spark.createDataFrame(rows, schema)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643, ISO 7064 MOD 11-2


def valid_phone_sql(v: str) -> str:
    """A mobile number (11 digits from 13-19) or a landline with its area code (0851-xxxxxxxx)."""
    return f"({v} RLIKE '^1[3-9][0-9]{{9}}$' OR {v} RLIKE '^0[0-9]{{2,3}}-?[0-9]{{7,8}}$')"


def valid_id_number_sql(v: str) -> str:
    """18 characters, a real birth date, and the GB 11643 check character."""
    weights = ", ".join(map(str, ID_WEIGHTS))
    checksum = (f"aggregate(sequence(1, 17), 0, (acc, i) -> acc + cast(substr({v}, i, 1) AS INT) "
                f"* element_at(array({weights}), i))")
    return (f"({v} RLIKE '^[0-9]{{17}}[0-9X]$' AND try_to_date(substr({v}, 7, 8), 'yyyyMMdd') IS NOT NULL "
            f"AND substr('10X98765432', ({checksum}) % 11 + 1, 1) = substr({v}, 18, 1))")


def age_band_sql(v: str) -> str:
    """Age at the end of the delivery month (`_period`), in the catalogue's bands, from the ID number's birth date."""
    age = (f"floor(months_between(last_day(to_date(concat(_period, '-01'))), "
           f"try_to_date(substr({v}, 7, 8), 'yyyyMMdd')) / 12)")
    return (f"CASE WHEN {age} < 30 THEN '<30' WHEN {age} < 40 THEN '30-39' WHEN {age} < 50 THEN '40-49' "
            f"WHEN {age} < 60 THEN '50-59' WHEN {age} < 70 THEN '60-69' ELSE '>=70' END")


def with_personal_flags(df, dataset: Dataset):
    """Derive the flags a personal column may still tell (valid phone, valid ID number, age band) from its clear
    value, before with_pseudonyms replaces it: what lands is the pseudonym and these flags, never the value."""
    from pyspark.sql import functions as F

    for col in dataset.columns:
        if not col.derive:
            continue
        v = f"nullif(trim(`{col.name}`), '')"
        valid = valid_id_number_sql(v) if "valid_id_number" in col.derive else valid_phone_sql(v)
        df = df.withColumn(f"{col.name}_is_valid", F.expr(f"CASE WHEN {v} IS NULL THEN NULL ELSE {valid} END"))
        if "age_band" in col.derive:
            df = df.withColumn(f"{col.name}_age_band",
                               F.expr(f"CASE WHEN {v} IS NOT NULL AND {valid} THEN {age_band_sql(v)} END"))
    return df


def with_pseudonyms(df, dataset: Dataset, key: bytes):
    """Replace every column marked pseudonymise with its keyed pseudonym: clear values never reach Delta."""
    for col in dataset.columns:
        if col.pseudonymise:
            df = df.withColumn(col.name, pseudonym_column(df[col.name], key))
    return df


def with_secrets_derived(df, dataset: Dataset):
    """Drop every secret column before anything is written; keep only what may land: the first rule a secret value
    breaks (`_secret_rule` = "rule:column", never the value) and, for a column with `bands`, its band
    (`<name>_band`). Like pseudonyms, decided here, at the lake's door."""
    from pyspark.sql import functions as F

    from creditlake.conform.rules import SECRET_RULE, SPARK_TYPES, column_rules

    secret = dataset.secret_columns
    if not secret:
        return df
    checks = [F.when(F.coalesce(F.expr(broken), F.lit(False)), F.lit(f"{name}:{col.name}"))
              for col in secret for name, broken in column_rules(col)]
    df = df.withColumn(SECRET_RULE, F.coalesce(*checks, F.lit(None).cast("string")))
    for col in secret:
        if not col.bands:
            continue
        typed = F.expr(f"try_cast(nullif(trim(`{col.name}`), '') AS {SPARK_TYPES[col.type]})")
        labels = band_labels(col.bands)
        band = F.when(typed < F.lit(col.bands[0]), F.lit(labels[0]))
        for edge, label in zip(col.bands[1:], labels[1:-1]):
            band = band.when(typed < F.lit(edge), F.lit(label))
        band = band.otherwise(F.lit(labels[-1]))
        df = df.withColumn(col.band_column().name,
                           F.when(F.col(SECRET_RULE).isNull() & typed.isNotNull(), band))
    return df.drop(*[c.name for c in secret])


def with_lineage(df, checked: list[CheckedDelivery], dataset: Dataset, ingested_at: datetime | None = None):
    """Add source, dataset, file and delivery id (each delivery's, by `_period`), ingest time and a hash of the
    (pseudonymised) record."""
    from pyspark.sql import functions as F

    from creditlake.conform.rules import SECRET_RULE

    def by_period(value):
        pairs = [x for c in checked for x in (F.lit(c.delivery.period), F.lit(value(c)))]
        return F.create_map(*pairs)[F.col("_period")]

    d = checked[0].delivery
    ingested_at = ingested_at or datetime.now(timezone.utc)
    data_cols = [c.name for c in dataset.lake_columns()]
    return df.select(
        *data_cols,
        *([SECRET_RULE] if dataset.secret_columns else []),
        F.lit(d.source).alias("_source"),
        F.lit(d.dataset).alias("_dataset"),
        F.col("_period"),
        by_period(lambda c: f"{c.delivery.key}/{c.file.name}").alias("_file"),
        F.col("_row_number").cast("long"),
        by_period(lambda c: c.delivery_id).alias("_delivery_id"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.sha2(F.to_json(F.struct(*data_cols)), 256).alias("_record_hash"),
    )
