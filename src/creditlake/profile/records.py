"""The profile's records: every silver row of every profiled dataset, and the analyses' gold rows, as one row of
`profile_records` each, served for lookups by enterprise (creditlake.profile.lookup) and the 企业全景 dashboard.

One pass over the lake: each dataset's rows are projected onto one shape (enterprise, sub-class, date, the record as
JSON keyed by column name, and as Chinese text, with the keys of its record and delivery) and unioned; then two
windows over the union keep the newest delivery of each record (a record is identified by its dataset's `unique`
columns, so a monthly snapshot shows its current state and a corrected event its correction) and the newest `latest`
records of a flow per enterprise. One union and two windows, not two per dataset (a shuffle per dataset and
window: 636 Spark jobs and 174 s at 10k enterprises x 24 months, against 488 and 146 s; what is left is per table,
Delta's snapshot of each, and per file). The second window's partitions hold whole enterprises, sorted by enterprise:
the served table loads in that order without another sort (creditlake.serve.publish). At 100k enterprises the
windows shuffle the records' text twice, which costs about what that sort did (docs/performance.md).
"""

from __future__ import annotations

from creditlake.catalogue import CODE_LISTS, Catalogue
from creditlake.profile.definition import CLASS_NAMES, NO_VALUE, Subclass, subclasses

TABLE = "profile_records"
COLUMNS = ("enterprise_id", "class_order", "info_class", "subclass_id", "info_subclass", "source_name", "record_date",
           "record", "content")
_SEP = "\u0001"


def _value(sub_col, codes: dict[str, str] | None, F):
    """A column as the profile holds it: a code of a code list (GB/T 2260, GB/T 4754) as its name."""
    col = F.col(sub_col.name)
    if not codes:
        return col
    names = F.create_map(*[F.lit(x) for pair in codes.items() for x in pair])
    return F.coalesce(names[col], col)


def _value_text(sub_col, F):
    """A column's value as a reader sees it in the text form: 是/否 for booleans, ISO dates, plain numbers."""
    col = F.col(sub_col.name)
    if sub_col.type == "boolean":
        return F.when(col, F.lit("是")).when(~col, F.lit("否"))
    if sub_col.type == "decimal":
        return F.regexp_replace(F.regexp_replace(col.cast("string"), r"(\.\d*?)0+$", "$1"), r"\.$", "")
    return col.cast("string")


def dataset_frame(df, subs: list[Subclass], unique: list[str], accounts=None):
    """Pure: one dataset's silver rows -> its records in the served shape (one frame for all its sub-classes), with
    the keys the windows of `newest` need (`_record_key`, `_period`, `_row_number`, `_enterprise`, `_subclass_id`,
    `_record_date`, `_latest`). `accounts` (account_no, uscc), for a dataset that reaches the enterprise through an
    account."""
    from pyspark.sql import functions as F

    sub = subs[0]
    if accounts is not None:
        df = df.join(accounts, on=sub.enterprise_column, how="inner").withColumn("_enterprise", F.col("_account_uscc"))
    else:
        df = df.withColumn("_enterprise", F.upper(F.trim(F.col(sub.enterprise_column))))
    prefix = sub.id if sub.split_by is None else f"{sub.source}.{sub.dataset}"
    if sub.split_by is None:
        sub_id, sub_name = F.lit(prefix), F.lit(sub.name)
    else:
        value = F.coalesce(F.col(sub.split_by).cast("string"), F.lit(NO_VALUE))
        sub_id = F.concat(F.lit(prefix + "."), value)
        sub_name = F.concat(F.lit(sub.base_name + "（"), value, F.lit("）"))
    cols = sub.columns
    shaped = {c.name: _value(c, CODE_LISTS.get(c.codes or ""), F) for c in cols if c.codes}
    shaped |= {c.name: F.round(F.col(c.name), c.digits) for c in cols if c.digits is not None}
    if shaped:
        df = df.withColumns(shaped)
    record = F.to_json(F.struct(*[F.col(c.name) for c in cols])) if cols else F.lit("{}")
    content = F.concat_ws("；", *[F.concat(F.lit(f"{c.heading}："), _value_text(c, F)) for c in cols])
    return df.select(
        F.col("_enterprise"), sub_id.alias("_subclass_id"), F.col(sub.order_by).cast("string").alias("_record_date"),
        F.concat_ws(_SEP, F.lit(prefix), *[F.col(c).cast("string") for c in unique]).alias("_record_key"),
        F.col("_period").cast("string").alias("_period"), F.col("_row_number").cast("long").alias("_row_number"),
        F.lit(sub.latest).cast("int").alias("_latest"),
        F.lit(list(CLASS_NAMES).index(sub.category) + 1).alias("class_order"),
        F.lit(sub.category_name).alias("info_class"), sub_name.alias("info_subclass"),
        F.lit(sub.source_name).alias("source_name"), record.alias("record"), content.alias("content"),
    )


def newest(keyed):
    """Pure: the newest delivery of each record (`_record_key`, by `_period` and `_row_number`), then, where
    `_latest` is set, the newest `_latest` records per enterprise and sub-class (`_enterprise`, `_subclass_id`, by
    `_record_date`). The result is partitioned by enterprise and sorted by it within each partition."""
    from pyspark.sql import Window, functions as F

    by_record = Window.partitionBy("_record_key").orderBy(F.col("_period").desc(), F.col("_row_number").desc())
    current = keyed.withColumn("_version", F.row_number().over(by_record)).where("_version = 1")
    # Whole enterprises per partition: the window below needs no other shuffle (its keys include the enterprise)
    # and sorts each partition by enterprise first.
    by_sub = Window.partitionBy("_enterprise", "_subclass_id").orderBy(
        F.col("_record_date").desc_nulls_last(), F.col("_record_key"))
    ranked = current.repartition("_enterprise").withColumn("_rank", F.row_number().over(by_sub))
    return ranked.where(F.col("_latest").isNull() | (F.col("_rank") <= F.col("_latest")))


def profile_records(spark, catalogue: Catalogue, read):
    """The profile's records from the lake tables `read(layer, table)` returns (None: not there yet): the catalogue's
    sub-classes from silver, the analyses from gold; None when there is nothing to show yet. Partitioned by
    enterprise and sorted by it within each partition."""
    from pyspark.sql import functions as F

    by_table: dict[tuple[str, str], list[Subclass]] = {}
    for sub in subclasses(catalogue):
        by_table.setdefault((sub.layer, sub.lake_table), []).append(sub)
    frames = []
    for (layer, table), subs in by_table.items():
        df = read(layer, table)
        if df is None:
            continue
        sub = subs[0]
        if layer == "gold":  # a mart: one version of each row, no deliveries
            frames.append(dataset_frame(df.withColumns({"_period": F.lit(""), "_row_number": F.lit(0)}), subs,
                                        list(sub.unique)))
            continue
        dataset = catalogue.dataset(sub.source, sub.dataset)
        accounts = None
        if dataset.links_via is not None:
            linked = read("silver", f"{sub.source}__{dataset.links_via.dataset}")
            if linked is None:
                continue
            target = catalogue.dataset(sub.source, dataset.links_via.dataset)
            accounts = _account_owners(linked, dataset.links_via.column, target.links_to_enterprise, F)
        frames.append(dataset_frame(df, subs, dataset.unique, accounts))
    if not frames:
        return None
    union = frames[0]
    for frame in frames[1:]:
        union = union.union(frame)  # by position: dataset_frame selects one shape (by name re-analyses the left side)
    return newest(union).select(
        F.col("_enterprise").alias("enterprise_id"), "class_order", "info_class",
        F.col("_subclass_id").alias("subclass_id"), "info_subclass", "source_name",
        F.col("_record_date").alias("record_date"), "record", "content")


def _account_owners(accounts, account_column: str, uscc_column: str, F):
    """Pure: each account's owner in its newest delivery (account_no, _account_uscc)."""
    from pyspark.sql import Window

    w = Window.partitionBy(account_column).orderBy(F.col("_period").desc(), F.col("_row_number").desc())
    return (accounts.select(account_column, F.upper(F.trim(F.col(uscc_column))).alias("_account_uscc"),
                            "_period", "_row_number")
            .withColumn("_n", F.row_number().over(w)).where("_n = 1").select(account_column, "_account_uscc"))
