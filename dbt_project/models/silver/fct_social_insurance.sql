{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns',
          recompute_with=['stg_hrss__social_insurance']) }}
-- Social-insurance contributions per enterprise and month (headcount of the largest scheme).
-- Incremental (macro recompute_since): a run rewrites, whole, every month from the earliest its deliveries hold.
{%- set since = recompute_since() %}
select
    enterprise_id,
    month,
    cast(max(insured_headcount) as bigint) as insured_headcount,
    cast(sum(amount_due_cny) as double) as amount_due_cny,
    cast(sum(amount_paid_cny) as double) as amount_paid_cny,
    cast(max(months_in_arrears) as bigint) as months_in_arrears
from {{ ref('stg_hrss__social_insurance') }}
{% if since %}where month >= '{{ since }}'{% endif %}
group by enterprise_id, month
