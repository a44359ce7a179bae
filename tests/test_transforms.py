"""Pure transforms on tiny frames: rules, duplicates, enterprise links, pseudonyms, typing."""

import hashlib
import hmac
import random

from chispa import assert_df_equality
from pyspark.sql import functions as F

from creditlake.catalogue import load_catalogue
from creditlake.codes import is_valid_uscc
from creditlake.conform.rules import (
    uscc_valid_sql, with_enterprise_link, with_resent_marked, with_rule_violations, with_typed_columns,
)
from creditlake.conform.silver import split_checked
from creditlake.generate.people import make_uscc
from creditlake.pseudonymise import pseudonym, pseudonym_column

POWER = load_catalogue().dataset("power", "consumption")
GOOD = "91350100M000100Y43"


def _power(spark, rows, delivered="2024-01"):
    cols = ["account_no", "uscc", "period", "kwh", "read_date", "_row_number"]
    df = spark.createDataFrame(rows, ", ".join(f"{c} {'long' if c == '_row_number' else 'string'}" for c in cols))
    return df.withColumn("_period", F.lit(delivered))


def test_first_broken_rule_per_row(spark):
    df = _power(spark, [
        ("A1", GOOD, "2024-01", "10.5", "2024-01-28", 1),
        ("A2", GOOD[:-1] + "0", "2024-01", "1", None, 2),     # wrong check character
        ("A3", GOOD, "2024-13", "1", None, 3),                # impossible month
        ("A4", GOOD, "2024-01", "-4", None, 4),               # below range
        ("A5", GOOD, "2024-01", "abc", None, 5),              # not a number
        (None, None, None, None, None, 6),                    # all null: first required column wins
        ("A7", GOOD, "2024-01", "1", "2024-02-30", 7),        # impossible date
    ])
    got = with_rule_violations(df, POWER).select("_row_number", "_rule", "_rule_column", "_rule_value")
    expected = spark.createDataFrame([
        (1, None, None, None),
        (2, "uscc_check", "uscc", GOOD[:-1] + "0"),
        (3, "pattern", "period", "2024-13"),
        (4, "range", "kwh", "-4"),
        (5, "type", "kwh", "abc"),
        (6, "required", "account_no", None),
        (7, "type", "read_date", "2024-02-30"),
    ], "_row_number long, _rule string, _rule_column string, _rule_value string")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_duplicates_and_unknown_enterprises(spark):
    other = "91110000600037341L"
    df = _power(spark, [
        ("A1", GOOD, "2024-01", "1", None, 1),
        ("A1", GOOD, "2024-01", "2", None, 2),   # same account and month again
        ("A2", other, "2024-01", "3", None, 3),  # valid code, not registered
    ])
    spine = spark.createDataFrame([(GOOD,)], "uscc string")
    got = split_checked(df, POWER, spine).select("_row_number", "_rule")
    expected = spark.createDataFrame([(1, None), (2, "duplicate"), (3, "unknown_enterprise")],
                                     "_row_number long, _rule string")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


COMPLAINTS = load_catalogue().dataset("samr", "complaints_12315")


def test_resent_event_records_are_marked_once_kept(spark):
    """An event delivered again in a later month (same key, same content) is `resent`; a changed one is kept."""
    schema = "complaint_id string, _record_hash string, _period string, _row_number long, _rule string"
    earlier = spark.createDataFrame([("TS1", "h1", "2024-01", 1, None), ("TS2", "h2", "2024-01", 2, None)], schema)
    batch = spark.createDataFrame([
        ("TS1", "h1", "2024-02", 1, None),   # resent from January (already in silver)
        ("TS2", "h9", "2024-02", 2, None),   # same key, corrected content: kept
        ("TS3", "h3", "2024-02", 3, None),   # new
        ("TS3", "h3", "2024-03", 1, None),   # resent within the batch
        ("TS4", "h4", "2024-03", 2, None),   # new
        ("TS5", None, "2024-03", 3, "required"),  # already broken: first rule wins
    ], schema).withColumns({"_rule_column": F.lit(None).cast("string"), "_rule_value": F.lit(None).cast("string")})
    got = with_resent_marked(batch, COMPLAINTS, earlier).select("complaint_id", "_period", "_rule", "_rule_value")
    expected = spark.createDataFrame([
        ("TS1", "2024-02", "resent", "2024-01"), ("TS2", "2024-02", None, None), ("TS3", "2024-02", None, None),
        ("TS3", "2024-03", "resent", "2024-02"), ("TS4", "2024-03", None, None), ("TS5", "2024-03", "required", None),
    ], "complaint_id string, _period string, _rule string, _rule_value string")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
    assert with_resent_marked(batch, POWER, earlier) is batch  # monthly readings repeat keys by design


def test_enterprise_link_is_noop_without_spine(spark):
    df = _power(spark, [("A1", GOOD, "2024-01", "1", None, 1)]).withColumn("_rule", F.lit(None).cast("string"))
    assert with_enterprise_link(df, POWER, None) is df


def test_sql_check_agrees_with_python(spark):
    rng = random.Random(11)
    codes = [make_uscc(rng, "520103") for _ in range(150)]
    codes += [c[:-1] + ("0" if c[-1] != "0" else "1") for c in codes[:50]]
    codes += [c[:16] + ("0" if c[16] != "0" else "1") + c[17] for c in codes[:50]]
    df = spark.createDataFrame([(c,) for c in codes], "code string")
    got = {r.code: r.ok for r in df.select("code", F.expr(uscc_valid_sql("code")).alias("ok")).collect()}
    assert got == {c: is_valid_uscc(c) for c in codes}


def test_spark_pseudonym_equals_python_hmac(spark):
    key = bytes(range(32))
    df = spark.createDataFrame([("520102197902133972",), (" 13800138000 ",), (None,), ("",)], "v string")
    got = [r.p for r in df.select(pseudonym_column(F.col("v"), key).alias("p")).collect()]
    expected = "p1_" + hmac.new(key, b"520102197902133972", hashlib.sha256).hexdigest()
    assert got[0] == expected == pseudonym("520102197902133972", key)
    assert got[1] == pseudonym("13800138000", key)
    assert got[2] is None and got[3] is None


def test_typed_columns(spark):
    df = _power(spark, [("A1", GOOD, "2024-01", " 10.50 ", "2024-01-28", 1), ("A2", GOOD, "2024-01", "", "", 2)])
    got = with_typed_columns(df, POWER).select("kwh", "read_date")
    assert dict(got.dtypes) == {"kwh": "decimal(20,4)", "read_date": "date"}
    rows = got.orderBy(F.col("kwh").asc_nulls_last()).collect()
    assert str(rows[0].kwh) == "10.5000" and rows[1].kwh is None and rows[1].read_date is None


def test_registration_history_is_type_2(spark):
    from datetime import date

    from creditlake.conform.enterprises import with_registration_history

    cols = ("uscc string, event_type string, event_date date, established_date date, name string, "
            "district_code string, industry_code string, registered_capital double, address string, "
            "legal_rep_name string, _period string, _row_number long")
    d = date.fromisoformat
    a, b = GOOD, "91110000600037341L"
    events = spark.createDataFrame([
        (a, "设立", d("2020-01-05"), d("2020-01-05"), "甲公司", "520102", "F", 100.0, "路1号", "p1_x", "2024-01", 1),
        (a, "变更", d("2021-03-01"), d("2020-01-05"), "甲公司", "520102", "F", 100.0, "路1号", "p1_x", "2024-01", 2),
        (a, "变更", d("2022-06-01"), d("2020-01-05"), "甲公司", "520103", "F", 100.0, "路9号", "p1_x", "2024-01", 3),
        (a, "注销", d("2023-09-30"), d("2020-01-05"), "甲公司", "520103", "F", 100.0, "路9号", "p1_x", "2024-02", 1),
        (b, "设立", d("2019-02-02"), d("2019-02-02"), "乙公司", "520111", "C", None, None, None, "2024-01", 4),
    ], cols)
    got = with_registration_history(events).select(
        "uscc", "version", "district_code", "valid_from", "valid_to", "is_current", "is_deregistered")
    expected = spark.createDataFrame([
        (a, 1, "520102", d("2020-01-05"), d("2022-06-01"), False, False),  # the unchanged 变更 folds in
        (a, 2, "520103", d("2022-06-01"), d("2023-09-30"), True, True),
        (b, 1, "520111", d("2019-02-02"), None, True, False),               # null attributes, open version
    ], "uscc string, version int, district_code string, valid_from date, valid_to date, is_current boolean, "
       "is_deregistered boolean")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_personal_flags_are_derived_from_the_clear_value_before_the_pseudonym(spark):
    """Valid phone, valid ID number (GB 11643 check character) and age band land; the clear values do not."""
    from creditlake.generate.people import make_id_number
    from creditlake.ingest.bronze import with_personal_flags, with_pseudonyms

    dataset = load_catalogue().dataset("samr", "registrations")
    good_id = make_id_number(random.Random(3), "520102")  # born 1955-2000
    bad_check = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    bad_date = "520102" + "19991340" + good_id[14:]  # month 13
    rows = [
        ("a", good_id, "13800001111"), ("b", bad_check, "0851-86123456"), ("c", bad_date, "181"),
        ("d", None, " "), ("e", "52010219500101001X", "23800001111"),
    ]
    df = spark.createDataFrame(rows, "uscc string, legal_rep_id_no string, contact_phone string")
    df = df.withColumns({"legal_rep_name": F.lit("张三"), "_period": F.lit("2024-06")})
    df = df.withColumns({c.name: F.lit(None).cast("string") for c in dataset.columns  # the other personal columns
                         if c.pseudonymise and c.name not in df.columns})
    out = {r.uscc: r for r in with_pseudonyms(with_personal_flags(df, dataset), dataset, b"k" * 32)
           .collect()}
    born = int(good_id[6:10]), int(good_id[10:12])
    age = 2024 - born[0] - (1 if born[1] > 6 else 0)
    band = ["<30", "30-39", "40-49", "50-59", "60-69", ">=70"][min(max(age // 10 - 2, 0), 5)]
    assert (out["a"].legal_rep_id_no_is_valid, out["a"].legal_rep_id_no_age_band) == (True, band)
    assert (out["b"].legal_rep_id_no_is_valid, out["b"].legal_rep_id_no_age_band) == (False, None)
    assert out["c"].legal_rep_id_no_is_valid is False
    assert out["d"].legal_rep_id_no_is_valid is None and out["d"].contact_phone_is_valid is None
    # 52010219500101001X: check character computed below; born January 1950, 74 at the end of June 2024.
    first17 = "52010219500101001"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))) % 11]
    assert out["e"].legal_rep_id_no_is_valid is (check == "X")
    assert [out[k].contact_phone_is_valid for k in "abce"] == [True, True, False, False]
    # What lands beside the flags is the pseudonym, never the value.
    assert all(r.legal_rep_id_no is None or r.legal_rep_id_no.startswith("p1_") for r in out.values())
    assert all(r.contact_phone is None or r.contact_phone.startswith("p1_") for r in out.values())
    names = [c.name for c in dataset.lake_columns()]
    assert names.index("legal_rep_id_no_is_valid") == names.index("legal_rep_id_no") + 1
    assert "contact_phone_is_valid" in names and "legal_rep_id_no_age_band" in names
