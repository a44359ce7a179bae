-- Deregistrations (注销) that the registry delivered on a row quarantined for another field, e.g. a negative
-- registered capital or an unknown industry code. The row stays quarantined (silver and the statistics never
-- see it), but the fact it proves, that the enterprise is closed, keeps it off the lost-contact worklist: officers
-- must not be sent to a firm the registry says no longer exists. Only rows whose enterprise is known, whose
-- event type is 注销 and whose event date is a valid date count; the rule that rejected them is kept.
with quarantined as (
    select delivery_id, row_number, rule, `column`
    from {{ silver_source('lake_ops', 'quarantine') }}
    where source = 'samr' and dataset = 'registrations'
),

raw as (
    select uscc, event_type, try_cast(event_date as date) as event_date, _delivery_id, _row_number
    from {{ silver_source('bronze', 'samr__registrations') }}
    where event_type = '注销'
)

select
    raw.uscc as enterprise_id,
    min(raw.event_date) as deregistered_on,
    concat_ws('、', sort_array(collect_set(concat(quarantined.rule, '(', quarantined.`column`, ')')))) as rejected_for
from raw
inner join quarantined
    on quarantined.delivery_id = raw._delivery_id and quarantined.row_number = raw._row_number
inner join {{ ref('int_enterprises_registered') }} as enterprises on enterprises.enterprise_id = raw.uscc
where raw.event_date is not null
  and quarantined.`column` not in ('uscc', 'event_type', 'event_date')
  and enterprises.deregistered_on is null
group by raw.uscc
