"""Read a checked delivery into a bronze DataFrame: raw strings as delivered, pseudonyms, lineage columns."""

from __future__ import annotations

from datetime import datetime, timezone

from creditlake.catalogue import Dataset
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


def with_pseudonyms(df, dataset: Dataset, key: bytes):
    """Replace every column marked pseudonymise with its keyed pseudonym: clear values never reach Delta."""
    for col in dataset.columns:
        if col.pseudonymise:
            df = df.withColumn(col.name, pseudonym_column(df[col.name], key))
    return df


def with_lineage(df, checked: CheckedDelivery, dataset: Dataset, ingested_at: datetime | None = None):
    """Add source, dataset, period, file, delivery id, ingest time and a hash of the (pseudonymised) record."""
    from pyspark.sql import functions as F

    d = checked.delivery
    ingested_at = ingested_at or datetime.now(timezone.utc)
    data_cols = [c.name for c in dataset.columns]
    return df.select(
        *data_cols,
        F.lit(d.source).alias("_source"),
        F.lit(d.dataset).alias("_dataset"),
        F.lit(d.period).alias("_period"),
        F.lit(f"{d.key}/{checked.file.name}").alias("_file"),
        F.col("_row_number").cast("long"),
        F.lit(checked.delivery_id).alias("_delivery_id"),
        F.lit(ingested_at).cast("timestamp").alias("_ingested_at"),
        F.sha2(F.to_json(F.struct(*data_cols)), 256).alias("_record_hash"),
    )
