#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine: system packages, uv, the two Python environments, the Spark
# jars (Ivy cache) and a local PostgreSQL. A second run reuses everything already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql chromium chromium-driver fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
              openjdk-17-jre-headless)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet --break-system-packages --user uv
fi

# Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set (as in many CI images) every fresh process would
# otherwise compile Airflow, Spark's and Superset's Python from source (airflow starts in 4 s instead of 2). A
# second sync only compiles what changed.
echo "==> pipeline environment (.venv)"
uv sync --frozen --quiet --compile-bytecode
echo "==> Superset environment (.venv-superset)"
UV_PROJECT_ENVIRONMENT=.venv-superset uv sync --frozen --quiet --compile-bytecode --no-default-groups --group superset

echo "==> Spark/Delta jars (Ivy cache)"
jars_log="${TMPDIR:-/tmp}/creditlake-jars.$$.log"
if ! uv run --frozen creditlake jars >"$jars_log" 2>&1; then
  cat "$jars_log"; rm -f "$jars_log"; exit 1
fi
tail -n 2 "$jars_log" | tr -s '\n' ' '; echo
rm -f "$jars_log"

bash scripts/postgres.sh
