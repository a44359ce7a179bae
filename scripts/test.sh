#!/usr/bin/env bash
# The tests: set up (idempotent), then run the whole suite; screenshots and PDFs land in test-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.local/bin:$PATH"
mkdir -p test-artifacts
uv run --frozen pytest "$@"
