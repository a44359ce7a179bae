{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns') }}
-- Invoices issued per enterprise and month (all invoice kinds).
-- Incremental (macro incremental_from): a run rewrites the months its deliveries hold rows for, whole.
{%- set first = incremental_from('fct_invoices', 'silver') %}
select
    enterprise_id,
    month,
    cast(sum(issued_count) as bigint) as invoices_issued,
    cast(sum(issued_cny) as double) as invoiced_cny,
    cast(sum(red_letter_count) as bigint) as red_letter_invoices
from {{ ref('stg_tax__invoices') }}
{{ months_delivered_since([ref('stg_tax__invoices')], first) }}
group by enterprise_id, month
