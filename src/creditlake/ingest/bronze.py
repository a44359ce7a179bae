"""Read a checked delivery into a bronze DataFrame: raw strings as delivered, pseudonyms, lineage columns."""

from __future__ import annotations

from datetime import datetime, timezone

from creditlake.catalogue import Dataset, band_labels
from creditlake.ingest.landing import CheckedDelivery, csv_header, delivered_rows
from creditlake.pseudonymise import pseudonym_column

LINEAGE = ["_source", "_dataset", "_period", "_file", "_row_number", "_delivery_id", "_ingested_at", "_record_hash"]


def read_delivery(spark, checked: CheckedDelivery, dataset: Dataset):
    """The delivery's rows as strings, in file order, with their 1-based row number (header excluded).

    UTF-8 CSV with one kind of line ending is read by Spark; everything else (GB18030, JSON Lines, Excel, mixed
    line endings) is read here by the same readers that checked it and handed to Spark as rows.
    """
    from pyspark.sql import functions as F, types as T

    names = [c.name for c in dataset.columns]
    data = checked.file.read_bytes()
    if dataset.format == "csv" and spark_reads_csv(data, dataset.encoding):
        header = csv_header(checked.file, dataset)
        schema = T.StructType([T.StructField(f"_c{i}", T.StringType()) for i in range(len(header))])
        # Columns by position, so order and names are the header's (BOM, extra and reordered columns alike);
        # multiLine keeps the file in one partition, so the generated id follows file order exactly (0 = header).
        df = (
            spark.read.option("header", "false")
            .option("encoding", "utf-8")
            .option("multiLine", "true")
            .option("escape", '"')
            .schema(schema)
            .csv(str(checked.file))
            .withColumn("_row_number", F.monotonically_increasing_id())
        )
        # An optional column the delivery left out (an older layout) reads as null.
        return df.where(df._row_number > 0).select(
            *[(F.col(f"_c{header.index(n)}") if n in header else F.lit(None).cast("string")).alias(n)
              for n in names],
            "_row_number",
        )
    schema = T.StructType([T.StructField(n, T.StringType()) for n in names]
                          + [T.StructField("_row_number", T.LongType())])
    rows = [(*(values.get(n) for n in names), number) for number, values in delivered_rows(checked.file, dataset, data)]
    return spark.createDataFrame(rows, schema)


def spark_reads_csv(data: bytes, encoding: str) -> bool:
    """Spark's CSV reader takes UTF-8 only (4.x) and one line ending per file, detected from the first line."""
    return encoding == "utf-8" and (b"\r" not in data or data.count(b"\r") == data.count(b"\n") == data.count(b"\r\n"))


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


def age_band_sql(v: str, period: str) -> str:
    """Age at the end of the delivery month, in the catalogue's bands, from the birth date in the ID number."""
    age = (f"floor(months_between(last_day(to_date('{period}-01')), "
           f"try_to_date(substr({v}, 7, 8), 'yyyyMMdd')) / 12)")
    return (f"CASE WHEN {age} < 30 THEN '<30' WHEN {age} < 40 THEN '30-39' WHEN {age} < 50 THEN '40-49' "
            f"WHEN {age} < 60 THEN '50-59' WHEN {age} < 70 THEN '60-69' ELSE '>=70' END")


def with_personal_flags(df, dataset: Dataset, period: str):
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
                               F.expr(f"CASE WHEN {v} IS NOT NULL AND {valid} THEN {age_band_sql(v, period)} END"))
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


def with_lineage(df, checked: CheckedDelivery, dataset: Dataset, ingested_at: datetime | None = None):
    """Add source, dataset, period, file, delivery id, ingest time and a hash of the (pseudonymised) record."""
    from pyspark.sql import functions as F

    from creditlake.conform.rules import SECRET_RULE

    d = checked.delivery
    ingested_at = ingested_at or datetime.now(timezone.utc)
    data_cols = [c.name for c in dataset.lake_columns()]
    return df.select(
        *data_cols,
        *([SECRET_RULE] if dataset.secret_columns else []),
        F.lit(d.source).alias("_source"),
        F.lit(d.dataset).alias("_dataset"),
        F.lit(d.period).alias("_period"),
        F.lit(f"{d.key}/{checked.file.name}").alias("_file"),
        F.col("_row_number").cast("long"),
        F.lit(checked.delivery_id).alias("_delivery_id"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.sha2(F.to_json(F.struct(*data_cols)), 256).alias("_record_hash"),
    )
