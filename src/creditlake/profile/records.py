"""The profile's records: every silver row of every profiled dataset, and the analyses' gold rows, as one row of
`profile_records` each, served for lookups by enterprise (creditlake.profile.lookup) and the 企业全景 dashboard.

One pass over the lake: each dataset's rows are reduced by two windows, the newest delivery of each record (a record
is identified by its dataset's `unique` columns, so a monthly snapshot shows its current state and a corrected event
its correction) and the newest `latest` records of a flow per enterprise, then projected onto one shape (enterprise,
sub-class, date, the record as JSON keyed by column name, and as Chinese text) and unioned.
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
    """Pure: one dataset's silver rows -> its records in the served shape (one frame for all its sub-classes).

    The two windows (newest) run on the dataset's typed rows with a few key columns added, and the record's JSON
    and text are built only for the rows they keep: shuffling and sorting the wide text of every delivered row cost
    most of a publication at 100k enterprises x 24 months. `accounts` (account_no, uscc), for a dataset that reaches
    the enterprise through an account."""
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
    keyed = df.withColumns({
        "_subclass_id": sub_id, "_record_date": F.col(sub.order_by).cast("string"),
        "_record_key": F.concat_ws(_SEP, F.lit(prefix), *[F.col(c).cast("string") for c in unique]),
    })
    kept = newest(keyed, sub.latest)
    cols = sub.columns
    shaped = {c.name: _value(c, CODE_LISTS.get(c.codes or ""), F) for c in cols if c.codes}
    shaped |= {c.name: F.round(F.col(c.name), c.digits) for c in cols if c.digits is not None}
    if shaped:
        kept = kept.withColumns(shaped)
    record = F.to_json(F.struct(*[F.col(c.name) for c in cols])) if cols else F.lit("{}")
    content = F.concat_ws("；", *[F.concat(F.lit(f"{c.heading}："), _value_text(c, F)) for c in cols])
    return kept.select(
        F.col("_enterprise").alias("enterprise_id"),
        F.lit(list(CLASS_NAMES).index(sub.category) + 1).alias("class_order"),
        F.lit(sub.category_name).alias("info_class"),
        F.col("_subclass_id").alias("subclass_id"), sub_name.alias("info_subclass"),
        F.lit(sub.source_name).alias("source_name"), F.col("_record_date").alias("record_date"),
        record.alias("record"), content.alias("content"),
    )


def newest(keyed, latest: int | None):
    """Pure: the newest delivery of each record (`_record_key`, by `_period` and `_row_number`), then, when `latest`
    is set, the newest `latest` records per enterprise and sub-class (`_enterprise`, `_subclass_id`, by
    `_record_date`)."""
    from pyspark.sql import Window, functions as F

    by_record = Window.partitionBy("_record_key").orderBy(F.col("_period").desc(), F.col("_row_number").desc())
    current = keyed.withColumn("_version", F.row_number().over(by_record)).where("_version = 1")
    if latest is None:
        return current
    by_sub = Window.partitionBy("_enterprise", "_subclass_id").orderBy(
        F.col("_record_date").desc_nulls_last(), F.col("_record_key"))
    return current.withColumn("_rank", F.row_number().over(by_sub)).where(F.col("_rank") <= latest)


def profile_records(spark, catalogue: Catalogue, read):
    """The profile's records from the lake tables `read(layer, table)` returns (None: not there yet): the catalogue's
    sub-classes from silver, the analyses from gold; None when there is nothing to show yet."""
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
    return union


def _account_owners(accounts, account_column: str, uscc_column: str, F):
    """Pure: each account's owner in its newest delivery (account_no, _account_uscc)."""
    from pyspark.sql import Window

    w = Window.partitionBy(account_column).orderBy(F.col("_period").desc(), F.col("_row_number").desc())
    return (accounts.select(account_column, F.upper(F.trim(F.col(uscc_column))).alias("_account_uscc"),
                            "_period", "_row_number")
            .withColumn("_n", F.row_number().over(w)).where("_n = 1").select(account_column, "_account_uscc"))
