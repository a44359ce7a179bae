-- Lost-contact enterprises (失联企业): enterprises that can no longer be reached through their registered domicile,
-- as of the lake's latest month, scored from the evidence of several departments. Each piece of evidence adds
-- points (docs/indicators.md); an enterprise is listed from 40 points. Reasons are kept per enterprise, with a
-- priority, the district whose officers follow it up and the follow-up status.
with as_of as (
    select max(month) as month, max(month_end) as month_end from {{ ref('int_months') }}
),

alive as (
    select enterprises.*
    from {{ ref('int_enterprises_registered') }} as enterprises
    cross join as_of
    left join {{ ref('int_deregistrations_on_quarantined_rows') }} as closed_on_quarantined_row
        on closed_on_quarantined_row.enterprise_id = enterprises.enterprise_id
        and closed_on_quarantined_row.deregistered_on <= as_of.month_end
    where enterprises.established_on <= add_months(as_of.month_end, -2)
      and (enterprises.deregistered_on is null or enterprises.deregistered_on > as_of.month_end)
      and closed_on_quarantined_row.enterprise_id is null
),

recent_months as (
    -- The last two months the tax office delivered: a firm that filed nothing in either has gone silent.
    select month from (
        select distinct month, dense_rank() over (order by month desc) as recency from {{ ref('fct_tax_filings') }}
    ) where recency <= 2
),

recent_window as (
    select max(month) as latest_month, min(month) as prior_month from recent_months
),

tax_filed as (
    select enterprise_id, count(distinct filings.month) as months_filed,
           max(filings.month = recent_window.latest_month) as filed_latest
    from {{ ref('fct_tax_filings') }} as filings
    inner join recent_months on recent_months.month = filings.month
    cross join recent_window
    group by enterprise_id
),

returned_mail as (
    select mail.enterprise_id, count(*) as returned, max(mail.returned_on) as last_returned_on
    from {{ ref('fct_returned_mail') }} as mail
    cross join as_of
    where mail.reason in ('查无此单位', '原址无人', '迁移新址不明')
      and mail.returned_on > add_months(as_of.month_end, -6)
    group by mail.enterprise_id
),

inspections as (
    select inspections.enterprise_id, max(inspections.inspected_on) as unreachable_on
    from {{ ref('fct_inspections') }} as inspections
    cross join as_of
    where inspections.result = '通过登记的住所或者经营场所无法联系'
      and inspections.inspected_on > add_months(as_of.month_end, -12)
    group by inspections.enterprise_id
),

listings as (
    -- Listed on the abnormal-operation list for being unreachable, and not removed since.
    select listed.enterprise_id, max(listed.action_date) as listed_on
    from {{ ref('fct_abnormal_listings') }} as listed
    left join {{ ref('fct_abnormal_listings') }} as removed
        on removed.listed_decision_no = listed.decision_no and removed.action = '移出'
    where listed.action = '列入' and listed.reason = '通过登记的住所或者经营场所无法联系' and removed.decision_no is null
    group by listed.enterprise_id
),

non_filing as (
    select enterprise_id, max(decided_on) as designated_on
    from {{ ref('fct_penalties') }}
    where department = 'tax'
    group by enterprise_id
),

utility as (
    select use.enterprise_id, sum(use.quantity) as recent_use,
           sum(case when use.month = recent_window.latest_month then use.quantity end) as latest_use,
           sum(case when use.month = recent_window.prior_month then use.quantity else 0 end) as prior_use
    from {{ ref('fct_utility_use') }} as use
    inner join recent_months on recent_months.month = use.month
    cross join recent_window
    group by use.enterprise_id
),

social as (
    -- recent_months holds exactly the prior and the latest month (one month when the lake has only one).
    select enterprise_id,
           max(case when month in (recent_window.prior_month, recent_window.latest_month)
                    then insured_headcount else 0 end) as recent_headcount,
           max(case when month = recent_window.latest_month then insured_headcount else 0 end) as latest_headcount,
           max(case when month = recent_window.prior_month then insured_headcount else 0 end) as prior_headcount
    from {{ ref('fct_social_insurance') }}
    cross join recent_window
    group by enterprise_id
),

reports as (
    select enterprise_id, report_year from {{ ref('fct_annual_reports') }} where filed_on is not null
),

evidence as (
    select
        alive.enterprise_id,
        alive.enterprise_name,
        alive.district_code,
        alive.industry_code,
        alive.address,
        coalesce(tax_filed.months_filed, 0) as tax_months_filed,
        coalesce(returned_mail.returned, 0) as returned_mail,
        inspections.unreachable_on,
        listings.listed_on,
        non_filing.designated_on,
        utility.enterprise_id is not null and utility.recent_use <= 0 as is_utility_silent,
        social.enterprise_id is not null and social.recent_headcount = 0 as is_social_insurance_silent,
        -- Everything stopped in the latest month at once: no tax return (not even a zero one, which dormant firms
        -- still file), and power/water/gas use or insured staff that were there the month before fell to zero.
        coalesce(not coalesce(tax_filed.filed_latest, false)
            and ((utility.prior_use > 0 and utility.latest_use <= 0)
                 or (social.prior_headcount > 0 and social.latest_headcount = 0)), false) as is_stopped_at_once,
        alive.established_on <= make_date(year(as_of.month_end) - case when month(as_of.month_end) >= 7 then 1 else 2 end, 12, 31)
            and reports.enterprise_id is null as is_annual_report_missing,
        as_of.month as as_of_month
    from alive
    cross join as_of
    left join tax_filed on tax_filed.enterprise_id = alive.enterprise_id
    left join returned_mail on returned_mail.enterprise_id = alive.enterprise_id
    left join inspections on inspections.enterprise_id = alive.enterprise_id
    left join listings on listings.enterprise_id = alive.enterprise_id
    left join non_filing on non_filing.enterprise_id = alive.enterprise_id
    left join utility on utility.enterprise_id = alive.enterprise_id
    left join social on social.enterprise_id = alive.enterprise_id
    left join reports
        on reports.enterprise_id = alive.enterprise_id
        and reports.report_year = year(as_of.month_end) - case when month(as_of.month_end) >= 7 then 1 else 2 end
),

scored as (
    select
        *,
        filter(array(
            case when listed_on is not null then '已因“通过登记的住所或者经营场所无法联系”列入经营异常名录' end,
            case when unreachable_on is not null then concat('检查人员在住所无法联系（', cast(unreachable_on as string), '）') end,
            case when returned_mail > 0 then concat('寄往住所的邮件被退回', cast(returned_mail as string), '次（查无此单位、原址无人或迁移新址不明）') end,
            case when tax_months_filed = 0 then '近两个月未进行纳税申报' when tax_months_filed = 1 then '近两个月中有一个月未申报纳税' end,
            case when designated_on is not null then '被税务机关认定为非正常户' end,
            case when is_utility_silent then '近两个月水、电、气用量为零' end,
            case when is_stopped_at_once then '最近一个月纳税申报、水电气用量或社保缴费同时中断' end,
            case when is_social_insurance_silent then '近两个月无社保缴费人员' end,
            case when is_annual_report_missing then '未报送上一年度年度报告' end
        ), reason -> reason is not null) as reasons,
        least(100,
            case when listed_on is not null then 40 else 0 end
            + case when unreachable_on is not null then 35 else 0 end
            + case when returned_mail > 0 then 35 else 0 end
            + case when tax_months_filed = 0 then 30 when tax_months_filed = 1 then 15 else 0 end
            + case when designated_on is not null then 25 else 0 end
            + case when is_utility_silent then 10 else 0 end
            + case when is_stopped_at_once then 25 else 0 end
            + case when is_social_insurance_silent then 5 else 0 end
            + case when is_annual_report_missing then 10 else 0 end
        ) as score
    from evidence
)

select
    scored.as_of_month,
    scored.enterprise_id,
    scored.enterprise_name,
    scored.district_code,
    divisions.district_name,
    scored.industry_code,
    scored.address,
    scored.score,
    case when scored.score >= 70 then '高' when scored.score >= 55 then '中' else '低' end as priority,
    scored.reasons,
    concat_ws('；', scored.reasons) as reasons_text,
    case when scored.listed_on is not null then '已列入经营异常名录' else '待核查' end as follow_up_status,
    scored.returned_mail,
    scored.tax_months_filed,
    scored.unreachable_on,
    scored.listed_on,
    scored.designated_on,
    scored.is_utility_silent,
    scored.is_stopped_at_once,
    scored.is_social_insurance_silent,
    scored.is_annual_report_missing
from scored
left join {{ ref('stg_reference__divisions') }} as divisions on divisions.district_code = scored.district_code
where scored.score >= 40
