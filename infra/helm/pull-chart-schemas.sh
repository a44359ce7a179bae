#!/usr/bin/env bash
# Pull the official charts the values files target and keep their values.yaml, values.schema.json and Chart.yaml
# under infra/helm/schemas/ (not committed: upstream files), so tests/test_infra.py validates the values the way
# `helm install` does. Needs helm and access to the chart repositories (or the data centre's mirror of them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
helm repo add apache-airflow "${AIRFLOW_CHART_REPO:-https://airflow.apache.org}" >/dev/null
helm repo add superset "${SUPERSET_CHART_REPO:-https://apache.github.io/superset}" >/dev/null
helm pull apache-airflow/airflow --version 1.21.0 --untar -d "$tmp/airflow"
helm pull superset/superset --version 0.22.4 --untar -d "$tmp/superset"
for pair in "airflow/airflow:airflow-1.21.0" "superset/superset:superset-0.22.4"; do
  src="$tmp/${pair%%:*}"; dst="$here/schemas/${pair##*:}"
  mkdir -p "$dst"
  cp "$src"/values.yaml "$src"/Chart.yaml "$dst"/
  [ -f "$src/values.schema.json" ] && cp "$src/values.schema.json" "$dst"/
done
echo "chart files in $here/schemas; compare their SHA-256 with infra/helm/schemas/README.md"
