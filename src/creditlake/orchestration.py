"""What a DAG run works on: its months from the run's params or its data interval (kept out of the DAG files)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from creditlake.periods import month_range
from creditlake.settings import get_settings


def run_window(params: dict, data_interval_start: datetime | None) -> tuple[Path, list[str]]:
    """(landing folder, months) for a run: params `start`/`end` win; else the month of the data interval."""
    landing = Path(params.get("landing") or get_settings().landing)
    start, end = params.get("start"), params.get("end")
    if not (start and end):
        if data_interval_start is None:
            raise ValueError("a run needs params start and end, or a data interval")
        start = end = f"{data_interval_start.year:04d}-{data_interval_start.month:02d}"
    return landing, month_range(start, end)
