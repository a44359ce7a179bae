"""Consumer-dispute mediation support: the law library, the corpus of past cases, BM25 search and the CLI.

The pipeline builds the index with `build_index_from_rows(rows)` from silver.samr__mediation_cases; see
docs/mediation.md.
"""

from creditlake.mediation.search import MediationIndex, Suggestion, build_index_from_landing, build_index_from_rows

__all__ = ["MediationIndex", "Suggestion", "build_index_from_landing", "build_index_from_rows"]
