"""Read a checked delivery into a bronze DataFrame: raw strings as delivered, pseudonyms, lineage columns."""

from __future__ import annotations

from datetime import datetime, timezone

from creditlake.catalogue import Dataset, table_name
from creditlake.ingest.landing import CheckedDelivery
from creditlake.pseudonymise import pseudonym_column

LINEAGE = ["_source", "_dataset", "_period", "_file", "_row_number", "_delivery_id", "_ingested_at", "_record_hash"]


def read_delivery(spark, checked: CheckedDelivery, dataset: Dataset):
    """The delivery's rows as strings, in file order, with their 1-based row number (header excluded)."""
    from pyspark.sql import functions as F, types as T

    schema = T.StructType([T.StructField(c.name, T.StringType()) for c in dataset.columns])
    # multiLine keeps the file in one partition, so the generated id follows file order exactly.
    df = (
        spark.read.option("header", "true")
        .option("encoding", dataset.encoding)
        .option("multiLine", "true")
        .option("escape", '"')
        .option("enforceSchema", "false")
        .schema(schema)
        .csv(str(checked.file))
    )
    return df.withColumn("_row_number", F.monotonically_increasing_id() + 1)


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


def bronze_table(dataset_source: str, dataset_code: str) -> str:
    return table_name(dataset_source, dataset_code)
