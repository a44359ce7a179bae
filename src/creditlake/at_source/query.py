"""The lake's side: ask an at-source dataset about every enterprise the lake knows, store the flags, log hashes.

The question covers every enterprise in silver registrations, not a list of suspects, so it tells the
department nothing about whom the regulator is looking at. The answer is checked (flags only) before anything
is written; the flags land in `silver.<source>__<flags table>` by USCC and month with the answer's hash, the
question and answer bytes are kept under settings.exchanges for audit, and a `secret_query` ledger event holds
both hashes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from creditlake.at_source.protocol import build_question, check_answer, sha256
from creditlake.at_source.responder import FLAGGERS, respond
from creditlake.settings import Settings

log = logging.getLogger(__name__)

# (source, dataset) -> the silver table its flags land in.
FLAG_TABLES = {("pboc", "loan_defaults"): "pboc__loan_default_flags"}
DEFAULT_PURPOSE = "企业信用监管：信贷逾期核验（数据不出域）"

Transport = Callable[[bytes], bytes]  # question bytes out, answer bytes back


def flag_table_schema(source: str, dataset: str) -> list[tuple[str, str]]:
    """(column, Spark type) of a flags table: the enterprise, the month, one boolean per flag, the hashes."""
    names, _ = FLAGGERS[(source, dataset)]
    return [("uscc", "string"), ("month", "string"), *[(n, "boolean") for n in names],
            ("question_sha256", "string"), ("answer_sha256", "string"), ("answered_at", "timestamp")]


def at_source_datasets(catalogue) -> list[tuple[str, str]]:
    """The catalogued datasets kept at source that the lake can ask (a responder and a flags table exist)."""
    return [(s.code, d.code) for s, d in catalogue.datasets()
            if d.residency == "at_source" and (s.code, d.code) in FLAG_TABLES]


def known_enterprises(spark, settings: Settings) -> list[str]:
    from creditlake.lake import read_table

    reg = read_table(spark, "silver", "samr__registrations", settings)
    if reg is None:
        raise FileNotFoundError("no silver.samr__registrations yet: ingest samr/registrations before asking")
    return sorted(r.uscc for r in reg.select("uscc").distinct().collect())


def flag_rows(question, answer: dict, answer_sha256: str, answered_at: datetime) -> list[tuple]:
    """Pure: one row per asked enterprise (all flags false unless the answer names its pseudonym)."""
    n = len(answer["flags"])
    return [(uscc, answer["month"], *answer["positive"].get(key, [False] * n), question.sha256, answer_sha256,
             answered_at) for key, uscc in sorted(question.usccs_by_key.items(), key=lambda kv: kv[1])]


def ask(spark, settings: Settings, source: str, dataset: str, month: str, purpose: str = DEFAULT_PURPOSE,
        transport: Transport | None = None) -> dict:
    """One question for `month`; returns the ledger record. `transport` carries the bytes to the department
    (default: its responder over settings.at_source, in-process)."""
    from creditlake.lake import is_built_from, record_built_from, replace_slice, table_version
    from creditlake.ledger import append_event

    transport = transport or (lambda data: respond(data, settings.at_source))
    question = build_question(known_enterprises(spark, settings), source, dataset, month, purpose)
    data = transport(question.data)
    answer = check_answer(question, data)
    answer_sha256 = sha256(data)
    folder = settings.exchanges / source / dataset / month / question.sha256[:16]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "question.json").write_bytes(question.data)
    (folder / "answer.json").write_bytes(data)
    schema = ", ".join(f"{c} {t}" for c, t in flag_table_schema(source, dataset))
    rows = flag_rows(question, answer, answer_sha256, datetime.now(timezone.utc))
    # The flags as the lake keeps them (enterprise, month, flags: not the nonce-keyed exchange): an answer that
    # changes none of them leaves the table as it is, so what reads it has nothing new to do.
    table = FLAG_TABLES[(source, dataset)]
    flags = {"flags": sha256(json.dumps([r[:2 + len(answer["flags"])] for r in rows]).encode()),
             "table": table_version("silver", table, settings)}
    if not is_built_from(f"silver.{table}.{month}", flags, settings=settings):
        replace_slice(spark.createDataFrame(rows, schema), "silver", table, {"month": month},
                      partition_by=["month"], settings=settings)
        record_built_from(f"silver.{table}.{month}", {**flags, "table": table_version("silver", table, settings)},
                          settings)
    record = {"source": source, "dataset": dataset, "month": month, "purpose": purpose,
              "protocol": question.body["protocol"], "question_sha256": question.sha256,
              "answer_sha256": answer_sha256, "n_keys": len(question.body["keys"]),
              "n_positive": len(answer["positive"])}
    append_event("secret_query", record, settings)
    log.info("secret query %s/%s %s: %d keys, %d positive", source, dataset, month, record["n_keys"],
             record["n_positive"])
    return record


def verify_exchanges(settings: Settings) -> list[str]:
    """Recompute the hash of every kept question and answer and match them with the ledger's `secret_query`
    events; the problems found (empty when all agree)."""
    from creditlake.ledger import read_entries

    logged = {(e.record["question_sha256"], e.record["answer_sha256"])
              for e in read_entries(settings, kind="secret_query")}
    problems, seen = [], set()
    for q in sorted(settings.exchanges.glob("*/*/*/*/question.json")):
        pair = (sha256(q.read_bytes()), sha256((q.parent / "answer.json").read_bytes()))
        seen.add(pair)
        if pair not in logged:
            problems.append(f"{q.parent}: question/answer hashes are not in the ledger")
    problems += [f"ledger secret_query {a[:12]}…/{b[:12]}… has no kept exchange" for a, b in sorted(logged - seen)]
    return problems
