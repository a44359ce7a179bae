{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns') }}
-- Social-insurance contributions per enterprise and month (headcount of the largest scheme).
-- Incremental (macro incremental_from): a run rewrites the months its deliveries hold rows for, whole.
{%- set first = incremental_from('fct_social_insurance', 'silver') %}
select
    enterprise_id,
    month,
    cast(max(insured_headcount) as bigint) as insured_headcount,
    cast(sum(amount_due_cny) as double) as amount_due_cny,
    cast(sum(amount_paid_cny) as double) as amount_paid_cny,
    cast(max(months_in_arrears) as bigint) as months_in_arrears
from {{ ref('stg_hrss__social_insurance') }}
{{ months_delivered_since([ref('stg_hrss__social_insurance')], first) }}
group by enterprise_id, month
