-- Per enterprise and month: each activity signal scaled to 0..1, and whether it applies to the enterprise in that
-- month: it has appeared in the source by then (what a month knows does not change when later months arrive, so a
-- month built alone and the same month in a full rebuild agree), and the source delivered that month (a delivery
-- that has not arrived yet is unknown, not a month of silence; the month is recomputed when it arrives).
-- The formulas and their reasoning are in docs/indicators.md. When mart_enterprise_activity_monthly is built
-- incrementally (macro incremental_from), only the recomputed months and the 12 months before them are read.
{%- set first = incremental_from('mart_enterprise_activity_monthly') %}
with base as (
    select * from {{ ref('int_enterprise_months') }}
    {% if first %}where month >= '{{ first }}'{% endif %}
),

utility as (
    select
        enterprise_id,
        month,
        -- The strongest of the enterprise's utilities, each against its own 12-month peak: a firm that still runs
        -- draws at least 30% of its peak month, standby loads draw a few percent.
        max(least(quantity / nullif(peak_12m, 0) / 0.3, 1.0)) as s_utility
    from (
        select
            enterprise_id, month, utility, quantity,
            max(quantity) over (
                partition by enterprise_id, utility order by month_index
                range between 11 preceding and current row
            ) as peak_12m
        from (
            select *, cast(substr(month, 1, 4) as int) * 12 + cast(substr(month, 6, 2) as int) as month_index
            from {{ ref('fct_utility_use') }}
            {% if first %}where month >= {{ months_before(first, 11) }}{% endif %}
        )
    )
    group by enterprise_id, month
),

delivered as (
    -- One row per month: which optional sources hold rows for it (a handful of rows, joined once).
    select
        month,
        max(source = 'utility') as utility, max(source = 'social') as social,
        max(source = 'invoices') as invoices, max(source = 'bank') as bank
    from (
        select distinct 'utility' as source, month from {{ ref('fct_utility_use') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'social', month from {{ ref('fct_social_insurance') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'invoices', month from {{ ref('fct_invoices') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select distinct 'bank', month from {{ ref('fct_bank_activity') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
    )
    group by month
),

bank as (
    select
        enterprise_id, month,
        least(transactions / greatest(0.3 * max(transactions) over (
            partition by enterprise_id order by month_index range between 11 preceding and current row), 3.0), 1.0)
            as s_bank
    from (
        select *, cast(substr(month, 1, 4) as int) * 12 + cast(substr(month, 6, 2) as int) as month_index
        from {{ ref('fct_bank_activity') }}
        {% if first %}where month >= {{ months_before(first, 11) }}{% endif %}
    )
),

recent_licences as (
    -- A licence decision (granted, changed, renewed) counts in every month whose last 12 months hold it.
    {{ months_holding(ref('fct_licences'), 'decided_on', 12, "action in ('准予许可', '变更', '延续')", first) }}
),

recent_complaints as (
    -- A complaint counts in every month whose last 3 months hold it.
    {{ months_holding(ref('fct_complaints'), 'received_on', 3, first=first) }}
),

-- Every monthly signal of an enterprise in one row: the sources unioned and aggregated once, so the
-- enterprise-months meet them in one join instead of one join (and one shuffle of every enterprise-month) per
-- source. Each fact holds one row per enterprise and month; `max` keeps that row's value.
monthly as (
    select
        enterprise_id, month,
        max(s_utility) as s_utility, max(s_tax) as s_tax, max(s_social) as s_social,
        max(s_invoices) as s_invoices, max(s_bank) as s_bank,
        max(has_recent_licence) as has_recent_licence, max(has_recent_complaint) as has_recent_complaint
    from (
        -- Untyped nulls: each column takes the type its own source gives it (as the joins it replaces did).
        select enterprise_id, month, s_utility, null as s_tax, null as s_social, null as s_invoices, null as s_bank,
               false as has_recent_licence, false as has_recent_complaint
        from utility
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select enterprise_id, month, null, case when is_zero_declaration then 0.2 else 1.0 end, null, null, null,
               false, false
        from {{ ref('fct_tax_filings') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select enterprise_id, month, null, null, case when insured_headcount > 0 then 1.0 else 0.0 end, null, null,
               false, false
        from {{ ref('fct_social_insurance') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select enterprise_id, month, null, null, null, case when invoices_issued > 0 then 1.0 else 0.0 end, null,
               false, false
        from {{ ref('fct_invoices') }}
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select enterprise_id, month, null, null, null, null, s_bank, false, false from bank
        {% if first %}where month >= '{{ first }}'{% endif %}
        union all
        select enterprise_id, month, null, null, null, null, null, true, false from recent_licences
        union all
        select enterprise_id, month, null, null, null, null, null, false, true from recent_complaints
    )
    group by enterprise_id, month
),

firsts as (
    -- The first month each optional source holds the enterprise (a signal applies from then on).
    select
        enterprise_id,
        min(case when source = 'utility' then month end) as first_utility,
        min(case when source = 'social' then month end) as first_social,
        min(case when source = 'invoices' then month end) as first_invoices,
        min(case when source = 'bank' then month end) as first_bank
    from (
        select 'utility' as source, enterprise_id, month from {{ ref('fct_utility_use') }}
        union all
        select 'social', enterprise_id, month from {{ ref('fct_social_insurance') }}
        union all
        select 'invoices', enterprise_id, month from {{ ref('fct_invoices') }}
        union all
        select 'bank', enterprise_id, month from {{ ref('fct_bank_activity') }}
    )
    group by enterprise_id
),

reports as (
    select enterprise_id, report_year, filed_on, is_filed_on_time from {{ ref('fct_annual_reports') }}
)

select
    base.month,
    base.month_end,
    base.enterprise_id,
    base.district_code,
    base.industry_code,
    coalesce(monthly.s_utility, 0.0) as s_utility,
    coalesce(firsts.first_utility <= base.month and delivered.utility, false) as has_utility,
    coalesce(monthly.s_tax, 0.0) as s_tax,
    coalesce(monthly.s_social, 0.0) as s_social,
    coalesce(firsts.first_social <= base.month and delivered.social, false) as has_social,
    coalesce(monthly.s_invoices, 0.0) as s_invoices,
    coalesce(firsts.first_invoices <= base.month and delivered.invoices, false) as has_invoices,
    coalesce(monthly.s_bank, 0.0) as s_bank,
    coalesce(firsts.first_bank <= base.month and delivered.bank, false) as has_bank,
    -- Last year's report is due by 30 June; before July the report of the year before is the latest due.
    case
        when reports.is_filed_on_time then 1.0
        when reports.filed_on is not null then 0.6
        else 0.0
    end as s_annual_report,
    base.established_on <= make_date(
        year(base.month_end) - case when month(base.month_end) >= 7 then 1 else 2 end, 12, 31
    ) as has_annual_report_due,
    -- Evidence that only ever adds: a registration change or a licence decision in the last 12 months, customers'
    -- complaints in the last 3, show someone is running the business.
    coalesce(base.last_changed_on > add_months(base.month_end, -12) and base.last_changed_on <= base.month_end,
             false) as has_recent_change,
    coalesce(monthly.has_recent_licence, false) as has_recent_licence,
    coalesce(monthly.has_recent_complaint, false) as has_recent_complaint
from base
left join delivered on delivered.month = base.month
left join monthly on monthly.enterprise_id = base.enterprise_id and monthly.month = base.month
left join firsts on firsts.enterprise_id = base.enterprise_id
left join reports
    on reports.enterprise_id = base.enterprise_id
    and reports.report_year = year(base.month_end) - case when month(base.month_end) >= 7 then 1 else 2 end
    and reports.filed_on <= base.month_end
