-- Sanctions from every department that shares them: administrative penalties (SAMR), dishonest-debtor listings
-- (courts), black-list entries (credit office) and non-filing designations (tax). One row per sanction.
-- Tax arrears are secret (涉税秘密): the lake holds their band, never the amount.
select 'samr' as department, '市场监督管理局' as department_name, decision_no as case_id, enterprise_id,
       decided_on as decided_on, concat(penalty_type, '：', violation_type) as sanction, fine_cny as amount_cny
from {{ ref('stg_samr__penalties') }}
union all
select 'court', '人民法院', case_no, enterprise_id, listed_on, concat('失信被执行人：', conduct), cast(null as decimal(20,4))
from {{ ref('stg_court__dishonest_debtors') }}
where removed_on is null
union all
select 'credit', '信用办', entry_id, enterprise_id, listed_on, concat(list_type, '：', reason), cast(null as decimal(20,4))
from {{ ref('stg_credit__red_black_list') }}
where list_type = '严重失信主体（黑名单）' and removed_on is null
union all
select 'tax', '税务局', concat('NF-', enterprise_id, '-', cast(action_date as string)), enterprise_id, action_date,
       concat('非正常户认定：连续', cast(months_not_filed as string), '个月未申报',
              coalesce(concat('，欠税金额区间（元）', arrears_band_cny), '')),
       cast(null as decimal(20,4))  -- arrears amounts are tax secrets: only their band is known to the lake
from {{ ref('stg_tax__non_filing') }}
where action = '认定'
