{#- The (enterprise_id, month) pairs whose last `months` months hold an event of `relation`: the event's date
    `date_column` lies in (add_months(month_end, -months), month_end], the test a join of every enterprise-month with
    the events would make. An event can only count in its own month and the `months` after it, so those candidates
    are generated from the event and tested (13 rows for a 12-month window), with no join. `where`: the events that
    count; `first`: the first month wanted (incremental builds), or none. -#}
{% macro months_holding(relation, date_column, months, where='true', first=none) -%}
    select enterprise_id, month
    from (
        select
            enterprise_id, {{ date_column }} as event_on,
            last_day(add_months(trunc({{ date_column }}, 'MM'), k)) as candidate_end,
            date_format(add_months(trunc({{ date_column }}, 'MM'), k), 'yyyy-MM') as month
        from {{ relation }}
        lateral view explode(sequence(0, {{ months }})) offsets as k
        where {{ date_column }} is not null and ({{ where }})
    )
    where event_on > add_months(candidate_end, -{{ months }})
    {% if first %}and month >= '{{ first }}'{% endif %}
{%- endmacro %}
