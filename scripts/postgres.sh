#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster on 127.0.0.1 and create the creditlake role and test database (idempotent).
set -euo pipefail
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
cluster_dir="/etc/postgresql/$version/main"
if [ ! -d "$cluster_dir" ]; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  echo "==> starting PostgreSQL $version"
  pg_ctlcluster "$version" main start
fi
as_postgres() { runuser -u postgres -- "$@"; }
for _ in $(seq 1 30); do
  as_postgres pg_isready -q && break
  sleep 1
done
as_postgres psql -q -d postgres -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'creditlake') THEN
    CREATE ROLE creditlake LOGIN PASSWORD 'creditlake';
  END IF;
END $$;
ALTER ROLE creditlake CREATEDB;
SQL
for db in creditlake creditlake_test creditlake_airflow; do
  if ! as_postgres psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
    as_postgres createdb -O creditlake "$db"
  fi
done
echo "==> PostgreSQL $version on 127.0.0.1:5432 (role creditlake, databases creditlake, creditlake_test, creditlake_airflow)"
