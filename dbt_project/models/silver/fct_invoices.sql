{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns',
          recompute_with=['stg_tax__invoices']) }}
-- Invoices issued per enterprise and month (all invoice kinds).
-- Incremental (macro recompute_since): a run rewrites, whole, every month from the earliest its deliveries hold.
{%- set since = recompute_since() %}
select
    enterprise_id,
    month,
    cast(sum(issued_count) as bigint) as invoices_issued,
    cast(sum(issued_cny) as double) as invoiced_cny,
    cast(sum(red_letter_count) as bigint) as red_letter_invoices
from {{ ref('stg_tax__invoices') }}
{% if since %}where month >= '{{ since }}'{% endif %}
group by enterprise_id, month
