-- Panoramic profile (企业全景画像), one row per enterprise: identity and registration, the latest activity index,
-- counts per information class, and the latest loan-default check answered at source (flags only).
-- `creditlake profile USCC` reads it with the detail tables it summarises.
with enterprises as (
    select * from {{ ref('int_enterprises_registered') }}
),

latest_activity as (
    select * from (
        select *, row_number() over (partition by enterprise_id order by month desc) as recency
        from {{ ref('mart_enterprise_activity_monthly') }}
    ) where recency = 1
),

latest_loan_check as (  -- answered at source by the People's Bank: flags only (数据不出域)
    select * from (
        select *, row_number() over (partition by enterprise_id order by month desc) as recency
        from {{ ref('stg_pboc__loan_default_flags') }}
    ) where recency = 1
),

counted as (
    select 'penalties' as class, enterprise_id, count(*) as n from {{ ref('fct_penalties') }} group by enterprise_id
    union all select 'complaints', enterprise_id, count(*) from {{ ref('fct_complaints') }} group by enterprise_id
    union all select 'mediations', enterprise_id, count(*) from {{ ref('fct_mediation_cases') }} group by enterprise_id
    union all select 'mediations_settled', enterprise_id, count(*) from {{ ref('fct_mediation_cases') }}
        where outcome = '调解成功' group by enterprise_id
    union all select 'licences', enterprise_id, count(*) from {{ ref('fct_licences') }} group by enterprise_id
    union all select 'inspections', enterprise_id, count(*) from {{ ref('fct_inspections') }} group by enterprise_id
    union all select 'court_cases', enterprise_id, count(*) from {{ ref('fct_court_cases') }} group by enterprise_id
    union all select 'warnings', enterprise_id, count(*) from {{ ref('mart_warnings') }}
        where enterprise_id is not null group by enterprise_id
    union all select 'abnormal_listings', enterprise_id, count(*) from {{ ref('fct_abnormal_listings') }}
        where action = '列入' group by enterprise_id
),

pivoted as (
    select
        enterprise_id,
        sum(case when class = 'penalties' then n else 0 end) as penalties,
        sum(case when class = 'complaints' then n else 0 end) as complaints,
        sum(case when class = 'mediations' then n else 0 end) as mediations,
        sum(case when class = 'mediations_settled' then n else 0 end) as mediations_settled,
        sum(case when class = 'licences' then n else 0 end) as licence_decisions,
        sum(case when class = 'inspections' then n else 0 end) as inspections,
        sum(case when class = 'court_cases' then n else 0 end) as court_cases,
        sum(case when class = 'warnings' then n else 0 end) as warnings,
        sum(case when class = 'abnormal_listings' then n else 0 end) as abnormal_listings
    from counted
    group by enterprise_id
)

select
    enterprises.enterprise_id,
    enterprises.enterprise_name,
    enterprises.district_code,
    divisions.district_name,
    enterprises.industry_code,
    sections.industry_name,
    enterprises.established_on,
    enterprises.registered_capital_10k_cny,
    enterprises.address,
    enterprises.last_changed_on,
    enterprises.deregistered_on,
    case when enterprises.deregistered_on is null then '存续' else '注销' end as status_zh,
    enterprises.legal_rep_age_band,
    enterprises.contact_phone_is_valid,
    latest_activity.month as activity_month,
    latest_activity.activity_index,
    latest_activity.band_zh as activity_band_zh,
    lost.enterprise_id is not null as is_lost_contact,
    lost.score as lost_contact_score,
    coalesce(pivoted.penalties, 0) as penalties,
    coalesce(pivoted.complaints, 0) as complaints,
    coalesce(pivoted.mediations, 0) as mediations,
    coalesce(pivoted.mediations_settled, 0) as mediations_settled,
    round(pivoted.mediations_settled / nullif(pivoted.mediations, 0), 4) as mediation_settled_share,
    coalesce(pivoted.licence_decisions, 0) as licence_decisions,
    coalesce(pivoted.inspections, 0) as inspections,
    coalesce(pivoted.court_cases, 0) as court_cases,
    coalesce(pivoted.warnings, 0) as warnings,
    coalesce(pivoted.abnormal_listings, 0) as abnormal_listings,
    loan_check.month as loan_check_month,
    loan_check.has_overdue_loan,
    loan_check.overdue_over_90_days,
    loan_check.non_performing as has_non_performing_loan,
    case
        when loan_check.enterprise_id is null then '未核验'
        when loan_check.non_performing then '有不良贷款'
        when loan_check.overdue_over_90_days then '逾期90天以上'
        when loan_check.has_overdue_loan then '有逾期'
        else '无逾期'
    end as loan_status_zh
from enterprises
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = enterprises.district_code
left join {{ ref('stg_reference__industry_sections') }} as sections on sections.industry_code = enterprises.industry_code
left join latest_activity on latest_activity.enterprise_id = enterprises.enterprise_id
left join {{ ref('mart_lost_contact') }} as lost on lost.enterprise_id = enterprises.enterprise_id
left join pivoted on pivoted.enterprise_id = enterprises.enterprise_id
left join latest_loan_check as loan_check on loan_check.enterprise_id = enterprises.enterprise_id
