{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns',
          recompute_with=['stg_tax__filings']) }}
-- Tax returns per enterprise and month: how many, the amount declared, whether all were zero declarations.
-- Incremental (macro recompute_since): a run rewrites, whole, every month from the earliest its deliveries hold.
{%- set since = recompute_since() %}
select
    enterprise_id,
    month,
    count(*) as returns_filed,
    cast(sum(declared_cny) as double) as declared_cny,
    bool_and(coalesce(is_zero_declaration, false)) as is_zero_declaration,
    bool_or(coalesce(is_late, false)) as is_late
from {{ ref('stg_tax__filings') }}
{% if since %}where month >= '{{ since }}'{% endif %}
group by enterprise_id, month
