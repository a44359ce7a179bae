{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['month'],
          on_schema_change='sync_all_columns') }}
-- Enterprise activity index (企业活跃度指数), 0-100, per enterprise and month, with each signal's points so an
-- officer sees why. Weights: docs/indicators.md. Only the signals that apply to the enterprise count: a firm
-- without a gas account is not marked down for using no gas.
-- Incremental on Delta: a run recomputes the month partitions from `recompute_from` on (macro incremental_from)
-- and overwrites exactly those; the first build and --full-refresh compute every month.
{% set weights = {'utility': 25, 'tax': 20, 'social': 15, 'bank': 15, 'invoices': 10, 'annual_report': 15} %}
{%- set first = incremental_from('mart_enterprise_activity_monthly') %}
with signals as (
    select * from {{ ref('int_activity_signals') }}
    {% if first %}where month >= '{{ first }}'{% endif %}
),

weighted as (
    select
        *,
        {{ weights['utility'] }} * cast(has_utility as int) as w_utility,
        {{ weights['tax'] }} as w_tax,
        {{ weights['social'] }} * cast(has_social as int) as w_social,
        {{ weights['bank'] }} * cast(has_bank as int) as w_bank,
        {{ weights['invoices'] }} * cast(has_invoices as int) as w_invoices,
        {{ weights['annual_report'] }} * cast(has_annual_report_due as int) as w_annual_report
    from signals
),

scored as (
    select
        *,
        w_utility + w_tax + w_social + w_bank + w_invoices + w_annual_report as w_total
    from weighted
),

points as (
    select
        month,
        month_end,
        enterprise_id,
        district_code,
        industry_code,
        round(100.0 * w_utility * s_utility / w_total, 2) as points_utility,
        round(100.0 * w_tax * s_tax / w_total, 2) as points_tax,
        round(100.0 * w_social * s_social / w_total, 2) as points_social,
        round(100.0 * w_bank * s_bank / w_total, 2) as points_bank,
        round(100.0 * w_invoices * s_invoices / w_total, 2) as points_invoices,
        round(100.0 * w_annual_report * s_annual_report / w_total, 2) as points_annual_report,
        -- Bonus evidence (each +3, capped at 100): a change of registration, a licence decision, customers' complaints.
        3.0 * cast(has_recent_change as int) + 3.0 * cast(has_recent_licence as int)
            + 3.0 * cast(has_recent_complaint as int) as points_bonus
    from scored
),

indexed as (
    select
        *,
        cast(least(points_utility + points_tax + points_social + points_bank + points_invoices
                   + points_annual_report + points_bonus, 100.0) as double) as activity_index
    from points
)

select
    *,
    case
        when activity_index >= 70 then 'active'
        when activity_index >= 40 then 'normal'
        when activity_index >= 15 then 'low'
        else 'dormant'
    end as band,
    case
        when activity_index >= 70 then '活跃'
        when activity_index >= 40 then '正常'
        when activity_index >= 15 then '低活跃'
        else '休眠'
    end as band_zh
from indexed
