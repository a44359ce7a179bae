{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns',
          recompute_with=['stg_bank__monthly_activity']) }}
-- Monthly activity of enterprises' bank accounts (basic deposit accounts reported by the banks).
-- Incremental (macro recompute_since): a run rewrites, whole, every month from the earliest its deliveries hold.
{%- set since = recompute_since() %}
select
    accounts.enterprise_id,
    activity.month,
    cast(sum(activity.transactions) as bigint) as transactions,
    cast(sum(activity.inflow_cny) as double) as inflow_cny,
    cast(sum(activity.outflow_cny) as double) as outflow_cny,
    cast(sum(activity.counterparties) as bigint) as counterparties
from (select * from {{ ref('stg_bank__monthly_activity') }}
      {% if since %}where month >= '{{ since }}'{% endif %}) as activity
inner join {{ ref('stg_utilities__accounts') }} as accounts
    on accounts.account_id = activity.account_id and accounts.utility = 'bank'
group by accounts.enterprise_id, activity.month
