-- One row per enterprise: its latest registered attributes, since when its domicile is the registered one (the
-- day of the event that first carried the current address after a different one; null when it never moved) and,
-- if deregistered, the date.
with events as (
    select * from {{ ref('stg_samr__registrations') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by enterprise_id order by event_date desc, period desc, source_row_number desc
        ) as recency
    from events
),

deregistrations as (
    select enterprise_id, min(event_date) as deregistered_on
    from events
    where event_type = '注销'
    group by enterprise_id
),

changes as (
    select enterprise_id, max(event_date) as last_changed_on
    from events
    where event_type = '变更'
    group by enterprise_id
),

addresses as (
    select
        enterprise_id, event_date, address,
        lag(address) over (partition by enterprise_id order by event_date, period, source_row_number)
            as previous_address
    from events
    where address is not null
),

moves as (
    select enterprise_id, max(event_date) as domicile_since
    from addresses
    where previous_address is not null and address <> previous_address
    group by enterprise_id
)

select
    latest.enterprise_id,
    latest.enterprise_name,
    latest.district_code,
    latest.industry_code,
    latest.established_on,
    latest.registered_capital_10k_cny,
    latest.address,
    latest.legal_rep_pseudonym,
    latest.contact_phone_pseudonym,
    latest.contact_phone_is_valid,
    latest.legal_rep_age_band,
    changes.last_changed_on,
    moves.domicile_since,
    deregistrations.deregistered_on
from latest
left join deregistrations on latest.enterprise_id = deregistrations.enterprise_id
left join changes on latest.enterprise_id = changes.enterprise_id
left join moves on latest.enterprise_id = moves.enterprise_id
where latest.recency = 1
