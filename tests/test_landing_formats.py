"""Landing contract per format: tiny deliveries in temporary folders, read back exactly or rejected for one reason."""

import hashlib
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from creditlake.catalogue import Dataset, load_catalogue
from creditlake.ingest.bronze import read_deliveries
from creditlake.ingest.landing import READERS, Delivery, DeliveryRejected, cell_text, check_delivery, one_line_ending

COLUMNS = ["uscc", "name", "amount", "note"]


def _dataset(fmt: str = "csv", encoding: str = "utf-8") -> Dataset:
    return Dataset(code="things", name_zh="测试", name_en="Things", format=fmt, encoding=encoding, key="uscc",
                   unique=["uscc"], columns=[{"name": c, "type": "string"} for c in COLUMNS])


def _deliver(tmp_path: Path, name: str, data: bytes, rows: int, sha256: str | None = None,
             period: str = "2024-03") -> Delivery:
    folder = tmp_path / "src" / "things" / period
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    manifest = {"files": [{"name": name, "rows": rows, "sha256": sha256 or hashlib.sha256(data).hexdigest()}]}
    (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return Delivery("src", "things", period, folder)


def _read(spark, delivery: Delivery, dataset: Dataset) -> list[tuple]:
    checked = check_delivery(delivery, dataset)
    df = read_deliveries(spark, [checked], dataset).drop("_period")
    assert df.columns == [*COLUMNS, "_row_number"]
    got = [tuple(r) for r in df.orderBy("_row_number").collect()]
    assert checked.landed_rows == len(got)
    return got


def _rejected(delivery: Delivery, dataset: Dataset, *expected: str) -> str:
    with pytest.raises(DeliveryRejected) as err:
        check_delivery(delivery, dataset)
    reason = str(err.value)
    assert "\n" not in reason and "\r" not in reason
    assert reason.startswith(str(delivery.folder)), reason  # names the file (or, for a manifest problem, the folder)
    for part in expected:
        assert part in reason, reason
    return reason


# --- CSV ---------------------------------------------------------------------------------------------------------

# Columns reordered and one extra: matched by name. Chinese text, an empty field, a quoted comma and newline.
CSV_TEXT = (
    'name,uscc,extra,amount,note\n'
    '贵阳市云岩区𠮷祥餐馆,91520100MA6DL1XQ2T,x,12.50,"含逗号, 和\n换行"\n'
    '"他说""好""",91520100MA6DL1XQ3R,,,\n'
    '花溪区㐀物流,91520100MA6DL1XQ4P,y,7,plain\n'
)
CSV_ROWS = [
    ("91520100MA6DL1XQ2T", "贵阳市云岩区𠮷祥餐馆", "12.50", "含逗号, 和\n换行", 1),
    ("91520100MA6DL1XQ3R", '他说"好"', None, None, 2),
    ("91520100MA6DL1XQ4P", "花溪区㐀物流", "7", "plain", 3),
]


@pytest.mark.parametrize("encoding, bom, newline, by_spark", [
    ("utf-8", False, "\n", True),
    ("utf-8", True, "\r\n", False),    # CRLF rows around a quoted LF: read here, not by Spark
    ("gb18030", False, "\n", True),    # Spark's CSV reader, with spark.sql.legacy.javaCharsets
    ("gb18030", False, "\r\n", False),
])
def test_csv_reads_back_exact_strings_and_row_numbers(spark, tmp_path, encoding, bom, newline, by_spark):
    text = CSV_TEXT.replace("\n", newline).replace(f'和{newline}换行', '和\n换行')
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    assert one_line_ending(data) is by_spark
    delivery = _deliver(tmp_path, "things.csv", data, rows=3)
    assert _read(spark, delivery, _dataset("csv", encoding)) == CSV_ROWS


def test_csv_crlf_bom_file_is_read_by_spark(spark, tmp_path):
    text = "\ufeffuscc,name,amount,note\r\nA1,名称,1,\r\n\r\nA2,\"x\r\ny\",2,z\r\n"
    data = text.encode("utf-8")
    assert one_line_ending(data)
    rows = _read(spark, _deliver(tmp_path, "t.csv", data, rows=2), _dataset())
    assert rows == [("A1", "名称", "1", None, 1), ("A2", "x\ny", "2", "z", 2)]  # blank line skipped


def test_real_gb18030_dataset_reads_chinese(spark, tmp_path):
    filings = load_catalogue().dataset("tax", "filings")
    assert (filings.format, filings.encoding) == ("csv", "gb18030")
    names = [c.name for c in filings.columns]
    row = ["91520100MA6DL1XQ2T", "2024-03", "个人所得税（扣缴）", "", "0.00", "2024-04-15", "true", "false"]
    data = (",".join(names) + "\n" + ",".join(row) + "\n").encode("gb18030")
    checked = check_delivery(_deliver(tmp_path, "f.csv", data, rows=1), filings)
    got = read_deliveries(spark, [checked], filings).drop("_period").collect()
    assert [tuple(r) for r in got] == [(*[v or None for v in row], 1)]


def test_many_deliveries_in_one_read_keep_their_period_layout_and_row_numbers(spark, tmp_path):
    """One read per dataset: each file's own header order, its own row numbers, its period; GB18030 alike."""
    layouts = {
        "2024-01": ("uscc,name,amount,note\n", ["A1,甲,1,x\n", "A2,乙,2,\"多\n行\"\n"]),
        "2024-02": ("note,uscc,extra,name,amount\n", ["y,B1,e,丙,3\n", "\n", "z,B2,,丁,4\n", "w,B3,,戊,5\n"]),
        "2024-03": ("uscc,name,amount,note\r\n", ["C1,己,6,v\r\n"]),
    }
    checked = []
    for period, (header, lines) in layouts.items():
        data = (header + "".join(lines)).encode("gb18030")
        rows = sum(1 for line in lines if line.strip())
        checked.append(check_delivery(_deliver(tmp_path, "t.csv", data, rows=rows, period=period),
                                      _dataset("csv", "gb18030")))
    got = sorted(tuple(r) for r in read_deliveries(spark, checked, _dataset("csv", "gb18030")).collect())
    assert got == [
        ("A1", "甲", "1", "x", "2024-01", 1), ("A2", "乙", "2", "多\n行", "2024-01", 2),
        ("B1", "丙", "3", "y", "2024-02", 1), ("B2", "丁", "4", "z", "2024-02", 2), ("B3", "戊", "5", "w", "2024-02", 3),
        ("C1", "己", "6", "v", "2024-03", 1),
    ]


def test_gb18030_file_declared_utf8_is_rejected_naming_the_line(tmp_path):
    data = "uscc,name,amount,note\nA1,plain,1,\nA2,贵阳,2,\n".encode("gb18030")
    _rejected(_deliver(tmp_path, "t.csv", data, rows=2), _dataset("csv", "utf-8"),
              "t.csv: line 3:", "not valid utf-8")


def test_utf8_file_declared_gb18030_is_rejected_naming_the_line(tmp_path):
    data = "uscc,name,amount,note\nA1,plain,1,\nA2,中文,2,\n".encode("utf-8")  # decodes as GB18030 mojibake
    _rejected(_deliver(tmp_path, "t.csv", data, rows=2), _dataset("csv", "gb18030"),
              "t.csv: line 3:", "UTF-8, not the declared gb18030")


def test_invalid_gb18030_bytes_are_rejected_naming_the_line(tmp_path):
    data = "uscc,name,amount,note\n".encode() + b"A1,\x81\x20,1,\n"
    _rejected(_deliver(tmp_path, "t.csv", data, rows=1), _dataset("csv", "gb18030"),
              "t.csv: line 2:", "not valid gb18030")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_wrong_delimiter_is_rejected(tmp_path, sep):
    data = f"uscc{sep}name{sep}amount{sep}note\nA1{sep}n{sep}1{sep}x\n".encode()
    _rejected(_deliver(tmp_path, "t.csv", data, rows=1), _dataset(), "t.csv: line 1:", "wrong delimiter",
              repr(sep))


def test_last_line_cut_is_rejected_as_truncated(tmp_path):
    data = b"uscc,name,amount,note\nA1,n,1,x\nA2,n"
    _rejected(_deliver(tmp_path, "t.csv", data, rows=2), _dataset(), "t.csv: line 3:", "truncated")


def test_unterminated_quote_is_rejected_as_truncated(tmp_path):
    data = b'uscc,name,amount,note\nA1,n,1,x\nA2,n,2,"cut off\n'
    _rejected(_deliver(tmp_path, "t.csv", data, rows=2), _dataset(), "t.csv: line 3:", "truncated")


@pytest.mark.parametrize("text", [
    "uscc,name,amount,note\nA1,n,1,x\nA2,n,2,x,extra\nA3,n,3,x\n",
    "uscc,name,amount,note\nA1,n,1,x\nA2,n,2\nA3,n,3,x\n",
    "uscc,name,amount,note\nA1,n,1,x\nA2,n,2,x,y",  # too many fields on an unterminated last line: not a cut
])
def test_row_with_wrong_field_count_is_rejected_naming_the_row(tmp_path, text):
    _rejected(_deliver(tmp_path, "t.csv", text.encode(), rows=3), _dataset(), "t.csv: row 2 (line 3):",
              "where the header has 4")


def test_missing_column_is_rejected(tmp_path):
    data = b"uscc,name,note\nA1,n,x\n"
    _rejected(_deliver(tmp_path, "t.csv", data, rows=1), _dataset(), "t.csv: line 1:", "missing columns amount")


def test_manifest_count_mismatch_is_rejected(tmp_path):
    data = b"uscc,name,amount,note\nA1,n,1,x\nA2,n,2,y\n"
    _rejected(_deliver(tmp_path, "t.csv", data, rows=3), _dataset(), "t.csv:", "declares 3 rows, file has 2")


def test_checksum_mismatch_is_rejected(tmp_path):
    data = b"uscc,name,amount,note\nA1,n,1,x\n"
    _rejected(_deliver(tmp_path, "t.csv", data, rows=1, sha256="0" * 64), _dataset(), "t.csv:", "checksum mismatch")


# --- JSON Lines --------------------------------------------------------------------------------------------------

def test_jsonl_reads_back_raw_strings_and_line_numbers(spark, tmp_path):
    lines = [
        '{"uscc": "A1", "name": "贵阳𠮷祥", "amount": 12.50, "note": true, "ignored": {"nested": 1}}',
        '',
        '{"uscc": "A2", "name": null, "amount": 7, "note": false}',
        '{"uscc": "A3", "name": "", "amount": -1.5e3}',
    ]
    data = b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8")  # with a byte-order mark
    rows = _read(spark, _deliver(tmp_path, "t.jsonl", data, rows=3), _dataset("jsonl"))
    assert rows == [
        ("A1", "贵阳𠮷祥", "12.50", "true", 1),
        ("A2", None, "7", "false", 3),
        ("A3", "", "-1.5e3", None, 4),
    ]


def test_jsonl_files_split_into_blocks_keep_their_line_numbers(spark, tmp_path):
    """Spark splits a large JSON Lines file into blocks read in parallel: row numbers stay each line's number."""
    checked, expected = [], []
    for period, n in (("2024-01", 700), ("2024-02", 300)):
        lines = []
        for i in range(1, n + 1):
            lines.append(json.dumps({"uscc": f"{period}-{i}", "name": "n", "amount": 1.50, "note": None}))
            if i % 97 == 0:
                lines += ["", "  "]  # blank lines are no rows but count as lines
        data = ("\n".join(lines) + "\n").encode()
        checked.append(check_delivery(_deliver(tmp_path, "t.jsonl", data, rows=n, period=period), _dataset("jsonl")))
        expected += [(json.loads(line)["uscc"], number) for number, line in enumerate(lines, 1) if line.strip()]
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")
    try:
        got = read_deliveries(spark, checked, _dataset("jsonl")).select("uscc", "amount", "_row_number").collect()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert sorted((r.uscc, r._row_number) for r in got) == sorted(expected)
    assert {r.amount for r in got} == {"1.5"}  # json.dumps writes 1.5; the text as written


@pytest.mark.parametrize("bad, expected", [
    ('{"uscc": "A2", "name": "n",}', "not valid JSON"),
    ('["A2", "n", 1, "x"]', "not a JSON object"),
    ('{"uscc": "A2", "name": "n", "amount": NaN, "note": "x"}', "not valid JSON"),
    ('{"uscc": "A2", "name": "n", "amount": [1], "note": "x"}', "amount is a JSON array"),
])
def test_bad_jsonl_line_is_rejected_naming_the_line(tmp_path, bad, expected):
    good = '{"uscc": "A1", "name": "n", "amount": 1, "note": "x"}'
    data = f"{good}\n{bad}\n{good}\n".encode()
    _rejected(_deliver(tmp_path, "t.jsonl", data, rows=3), _dataset("jsonl"), "t.jsonl: line 2:", expected)


def test_jsonl_cut_last_line_is_rejected_as_truncated(tmp_path):
    data = b'{"uscc": "A1", "name": "n", "amount": 1, "note": "x"}\n{"uscc": "A2", "na'
    _rejected(_deliver(tmp_path, "t.jsonl", data, rows=2), _dataset("jsonl"), "t.jsonl: line 2:", "truncated")


def test_jsonl_key_on_no_line_is_missing(tmp_path):
    data = b'{"uscc": "A1", "name": "n", "amount": 1}\n{"uscc": "A2", "amount": 2}\n'
    _rejected(_deliver(tmp_path, "t.jsonl", data, rows=2), _dataset("jsonl"), "t.jsonl:", "missing columns note")


def test_jsonl_row_count_is_non_empty_lines(tmp_path):
    line = b'{"uscc": "A1", "name": "n", "amount": 1, "note": "x"}'
    data = line + b"\n\n" + line
    _rejected(_deliver(tmp_path, "t.jsonl", data, rows=3), _dataset("jsonl"), "t.jsonl:", "declares 3 rows, file has 2")


# --- Excel -------------------------------------------------------------------------------------------------------

def _xlsx(rows: list[list], formats: dict[tuple[int, int], str] | None = None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for (r, c), fmt in (formats or {}).items():
        sheet.cell(row=r, column=c).number_format = fmt
    book.create_sheet("ignored").append(["not", "read"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_reads_cells_as_a_person_reads_them(spark, tmp_path):
    data = _xlsx(
        [
            ["uscc", "name", "amount", "note", None],
            ["A1", "贵阳𠮷祥", 12.5, date(2024, 3, 5)],
            ["A2", None, 42, datetime(2024, 3, 5, 14, 30, 0)],
            [],                                           # an empty row between data rows is a (null) row
            ["A4", "", 0.1, True],
        ],
        formats={(2, 3): "0.00", (2, 4): "yyyy-mm-dd", (3, 4): "yyyy-mm-dd hh:mm:ss", (8, 1): "0.00"},  # row 8: empty
    )
    rows = _read(spark, _deliver(tmp_path, "t.xlsx", data, rows=4), _dataset("xlsx"))
    assert rows == [
        ("A1", "贵阳𠮷祥", "12.50", "2024-03-05", 1),
        ("A2", None, "42", "2024-03-05T14:30:00", 2),
        (None, None, None, None, 3),
        ("A4", None, "0.1", "true", 4),
    ]


def test_cell_text():
    assert cell_text(None) is None and cell_text("") is None
    assert cell_text(7) == "7" and cell_text(7.0) == "7" and cell_text(12.5) == "12.5"
    assert cell_text(12.5, "#,##0.00_);(#,##0.00)") == "12.50" and cell_text(7, "0.000") == "7.000"
    assert cell_text(0.125, "0.00%") == "0.125"
    assert cell_text(0.1 + 0.2) == "0.3"
    assert cell_text(datetime(2024, 1, 2), "yyyy/m/d") == "2024-01-02"
    assert cell_text(datetime(2024, 1, 2), "yyyy-mm-dd hh:mm") == "2024-01-02T00:00:00"
    assert cell_text(False) == "false"


def test_xlsx_value_beyond_the_header_is_rejected(tmp_path):
    data = _xlsx([["uscc", "name", "amount", "note"], ["A1", "n", 1, "x"], ["A2", "n", 2, "x", "stray"]])
    _rejected(_deliver(tmp_path, "t.xlsx", data, rows=2), _dataset("xlsx"), "t.xlsx: row 2 (sheet row 3):",
              "column E")


def test_xlsx_missing_column_and_unreadable_file_are_rejected(tmp_path):
    data = _xlsx([["uscc", "name", "amount"], ["A1", "n", 1]])
    _rejected(_deliver(tmp_path / "a", "t.xlsx", data, rows=1), _dataset("xlsx"), "t.xlsx:", "missing columns note")
    _rejected(_deliver(tmp_path / "b", "t.xlsx", b"uscc,name\n", rows=0), _dataset("xlsx"), "t.xlsx:",
              "not a readable xlsx")


def test_every_catalogue_format_has_a_reader():
    assert {d.format for _, d in load_catalogue().datasets()} <= set(READERS)


# --- optional columns (added to a dataset after its senders started delivering) ---------------------------------

def _with_optional_note(fmt: str) -> Dataset:
    cols = [{"name": c, "type": "string"} for c in COLUMNS[:-1]] + [{"name": "note", "type": "string",
                                                                       "optional": True}]
    return Dataset(code="things", name_zh="测试", name_en="Things", format=fmt, key="uscc", unique=["uscc"],
                   columns=cols)


@pytest.mark.parametrize("fmt, data", [
    ("csv", b"uscc,name,amount\nA1,n,1\nA2,m,2\n"),  # read by Spark
    ("csv", b"uscc,name,amount\r\nA1,n,1\r\nA2,m,\"2\n\"\r\n"),  # mixed line endings: read here
    ("jsonl", b'{"uscc": "A1", "name": "n", "amount": 1}\n{"uscc": "A2", "name": "m", "amount": 2}\n'),
])
def test_delivery_without_an_optional_column_reads_it_as_null(spark, tmp_path, fmt, data):
    rows = _read(spark, _deliver(tmp_path, f"t.{fmt}", data, rows=2), _with_optional_note(fmt))
    assert [r[3] for r in rows] == [None, None] and [r[0] for r in rows] == ["A1", "A2"]


def test_an_optional_column_still_counts_when_present_and_a_required_one_is_still_missing(spark, tmp_path):
    rows = _read(spark, _deliver(tmp_path / "a", "t.csv", b"note,uscc,name,amount\nx,A1,n,1\n", rows=1),
                 _with_optional_note("csv"))
    assert rows == [("A1", "n", "1", "x", 1)]
    _rejected(_deliver(tmp_path / "b", "t.csv", b"uscc,amount\nA1,1\n", rows=1), _with_optional_note("csv"),
              "missing columns name")


def test_an_optional_column_must_be_nullable():
    with pytest.raises(ValueError, match="must be nullable"):
        Dataset(code="t", name_zh="测", name_en="T", key="uscc", unique=["uscc"],
                columns=[{"name": "uscc", "type": "string"},
                         {"name": "x", "type": "string", "nullable": False, "optional": True}])


def test_checks_in_worker_processes_equal_the_checks_here(tmp_path, monkeypatch, caplog):
    """A large run is checked by forked workers: the same CheckedDelivery or the same rejection, in order."""
    from creditlake.ingest import landing

    good = _deliver(tmp_path / "a", "t.csv", b"uscc,name,amount,note\nA1,n,1,x\n", rows=1)
    bad = _deliver(tmp_path / "b", "t.csv", b"uscc,name,amount,note\nA1,n,1,x\n", rows=2)
    jsonl = _deliver(tmp_path / "c", "t.jsonl", b'{"uscc": "A1", "name": "n", "amount": 1, "note": "x"}\n\n{}\n', rows=2)
    pairs = [(good, _dataset()), (bad, _dataset()), (jsonl, _dataset("jsonl"))]
    here = landing.check_deliveries(pairs, workers=1)
    monkeypatch.setattr(landing, "PARALLEL_CHECK_BYTES", 0)
    there = landing.check_deliveries(pairs, workers=2)
    assert "no worker processes" not in caplog.text  # the workers ran (no fallback to this process)
    assert [type(r) for r in there] == [landing.CheckedDelivery, DeliveryRejected, landing.CheckedDelivery]
    assert there[0] == here[0] and there[2] == here[2] and there[2].blanks_after_rows == (1,)
    assert str(there[1]) == str(here[1]) and "declares 2 rows, file has 1" in str(there[1])
