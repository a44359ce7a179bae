"""Evaluation of the mediation search: recall@k and MRR for articles and similar cases, and query latency.

Two query sets, both kept apart from the corpus the index is built on:
  * hand-checked: benchmarks/mediation_eval/hand_checked.jsonl, complaints written by hand (colloquial, other goods
    and phrasings than the generator's templates), each with its category, scenario and relevant articles;
  * generated held-out: complaints of another seed, whose truth is the generator's mapping
    (complaint_text.SCENARIOS: the scenario's articles; the procedural ones a mediator adds are not asked for).

Articles: recall@k = |relevant ∩ top k| / |relevant|, MRR = 1 / rank of the first relevant article (0 beyond 10).
Cases: a case is relevant when it has the query's category and scenario; recall@k = relevant in the top k /
min(k, relevant cases in the corpus) (the corpus holds dozens per scenario, so the plain ratio would be tiny);
MRR as for articles.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from creditlake.settings import REPO_ROOT

HAND_CHECKED = REPO_ROOT / "benchmarks" / "mediation_eval" / "hand_checked.jsonl"
MRR_DEPTH = 10


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    category: str
    scenario: str
    articles: tuple[str, ...]


def hand_checked(path: Path = HAND_CHECKED) -> list[Query]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Query(d["id"], d["text"], d["category"], d["scenario"], tuple(d["articles"])))
    return out


def generated_queries(enterprises: int, start: str, end: str, seed: int, limit: int | None = None) -> list[Query]:
    """Held-out complaints from the generator (another seed than the corpus), truth from its scenario mapping."""
    from creditlake.generate.complaint_text import BY_KEY
    from creditlake.mediation.corpus import generated_rows

    rows = generated_rows(enterprises, start, end, seed)
    queries = [Query(r["case_id"], r["complaint_text"], r["category"], r["_scenario"],
                     BY_KEY[r["_scenario"]].articles) for r in rows]
    return queries[:limit] if limit else queries


def _rr(ranked: list[bool]) -> float:
    return next((1.0 / (i + 1) for i, hit in enumerate(ranked[:MRR_DEPTH]) if hit), 0.0)


def evaluate(index, queries: list[Query], k: int = 5, mode: str | None = None, **kw) -> dict:
    """Mean article recall@k, MRR, hit@k; case recall@k (capped), MRR, precision@k; latency (ms) of suggest()."""
    from creditlake.mediation.search import DEFAULT_MODE

    mode = mode or DEFAULT_MODE
    in_corpus = Counter((c.category, c.scenario) for c in index.cases)
    a_recall, a_rr, a_hit, c_recall, c_rr, c_prec, latency = [], [], [], [], [], [], []
    misses: list[dict] = []
    for q in queries:
        start = time.perf_counter()
        s = index.suggest(q.text, k=max(k, MRR_DEPTH), mode=mode, **kw)
        latency.append((time.perf_counter() - start) * 1000)
        refs = [a.ref for a in s.articles]
        relevant = set(q.articles)
        a_recall.append(len(relevant & set(refs[:k])) / len(relevant))
        a_hit.append(1.0 if relevant & set(refs[:k]) else 0.0)
        a_rr.append(_rr([r in relevant for r in refs]))
        same = [(c.category, c.scenario) == (q.category, q.scenario) for c in s.cases]
        available = min(k, in_corpus[(q.category, q.scenario)])
        c_recall.append(sum(same[:k]) / available if available else 0.0)
        c_prec.append(sum(same[:k]) / k)
        c_rr.append(_rr(same))
        if a_recall[-1] < 1.0:
            misses.append({"id": q.id, "missing": sorted(relevant - set(refs[:k])), "top": refs[:k]})
    n = len(queries) or 1
    return {
        "queries": len(queries), "mode": mode, "k": k,
        "articles": {"recall@k": round(sum(a_recall) / n, 4), "mrr": round(sum(a_rr) / n, 4),
                     "hit@k": round(sum(a_hit) / n, 4)},
        "cases": {"recall@k": round(sum(c_recall) / n, 4), "mrr": round(sum(c_rr) / n, 4),
                  "precision@k": round(sum(c_prec) / n, 4)},
        "latency_ms": {"median": round(statistics.median(latency), 2) if latency else None,
                       "p95": round(sorted(latency)[int(0.95 * (len(latency) - 1))], 2) if latency else None},
        "misses": misses,
    }
