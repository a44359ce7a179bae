{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns') }}
-- Tax returns per enterprise and month: how many, the amount declared, whether all were zero declarations.
-- Incremental (macro incremental_from): a run rewrites the months its deliveries hold rows for, whole.
{%- set first = incremental_from('fct_tax_filings', 'silver') %}
select
    enterprise_id,
    month,
    count(*) as returns_filed,
    cast(sum(declared_cny) as double) as declared_cny,
    bool_and(coalesce(is_zero_declaration, false)) as is_zero_declaration,
    bool_or(coalesce(is_late, false)) as is_late
from {{ ref('stg_tax__filings') }}
{{ months_delivered_since([ref('stg_tax__filings')], first) }}
group by enterprise_id, month
