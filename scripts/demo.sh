#!/usr/bin/env bash
# The main job: set up (idempotent), then run the monthly pipeline on generated data through Airflow,
# start Superset with the dashboards, and print where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"
uv run --frozen creditlake demo "$@"
