"""Use without copying (数据不出域): a department's secret dataset stays at the source and answers questions.

The lake sends a question (the month and a keyed pseudonym of every enterprise it knows, under a key made for
that question alone) and receives derived flags per pseudonym, never amounts or rows; the SHA-256 of question
and answer go in the ledger. `protocol` is the message format both sides share, `responder` runs at the
department, `query` is the lake's side. See docs/secret-queries.md.
"""
