-- Approvals, subsidies, contracts and honours granted to enterprises by the departments that have a duty to
-- restrict sanctioned enterprises (joint credit discipline): one row per grant.
select 'finance' as department, 'subsidy' as grant_kind, grant_id, enterprise_id, paid_on as granted_on,
       cast(amount_cny as double) as amount_cny, programme as description
from {{ ref('stg_finance__subsidies') }}
union all
select 'procurement', 'procurement', grant_id, enterprise_id, awarded_on, cast(amount_cny as double), trade_type
from {{ ref('stg_procurement__bids_won') }}
union all
select 'housing', 'qualification', grant_id, enterprise_id, issued_on, cast(null as double),
       concat(category, qualification, coalesce(grade, ''))
from {{ ref('stg_housing__qualifications') }}
union all
select 'sci', 'honour', grant_id, enterprise_id, issued_on, cast(null as double), '高新技术企业认定'
from {{ ref('stg_sci__high_tech_certificates') }}
union all
select 'ndrc', 'project', grant_id, enterprise_id, filed_on, cast(amount_10k_cny * 10000 as double),
       concat(procedure, '：', project_name)
from {{ ref('stg_ndrc__project_filings') }}
