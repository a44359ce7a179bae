"""Runs INSIDE Superset (the generated config's DATA_CACHE_CONFIG names it): chart results cached until the serving
store changes.

Every cache key carries the store's version: the DuckDB file's inode and modification time (the pipeline swaps the
file in with os.replace, so a new publication is a new inode) and the time of the last publication
(`serving/published`, which publish touches for DuckDB and PostgreSQL alike). A publication therefore makes every
cached result unreachable at once, with no cache to clear and no coupling to the pipeline's processes; the entries
of earlier versions age out under the cache's size threshold. Row-level security is part of Superset's own key, so
a district officer never gets another role's cached rows.
"""

from __future__ import annotations

import os

from flask_caching.backends.filesystemcache import FileSystemCache


def store_version(paths: list[str]) -> str:
    """'<inode>-<mtime ns>' of each path ('-' for one that does not exist), joined by '.'."""
    parts = []
    for path in paths:
        try:
            st = os.stat(path)
            parts.append(f"{st.st_ino}-{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append("-")
    return ".".join(parts)


class PublicationCache(FileSystemCache):
    def __init__(self, cache_dir: str, version_files: list[str], **kwargs):
        self._version_files = version_files  # before the base class, whose set-up already names files
        super().__init__(cache_dir, **kwargs)

    def _get_filename(self, key: str) -> str:  # every get, set, add, delete and has goes through here
        return super()._get_filename(f"{store_version(self._version_files)}|{key}")

    @classmethod
    def factory(cls, app, config, args, kwargs):
        return cls(config["CACHE_DIR"], config["CACHE_VERSION_FILES"], threshold=config["CACHE_THRESHOLD"],
                   ignore_errors=config["CACHE_IGNORE_ERRORS"], default_timeout=config["CACHE_DEFAULT_TIMEOUT"])
