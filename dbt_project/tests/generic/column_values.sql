{#- A model's column checks in one scan: fails with one row per broken check (`not_null(month)`,
    `accepted_values(band)`, `between(power_kwh)`) and its count of rows. Nulls pass accepted_values (strings are
    quoted, numbers and booleans not) and between (fails below min or above max). -#}
{% test column_values(model, not_null=[], accepted_values={}, between={}) %}
{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append(('not_null(' ~ column ~ ')', adapter.quote(column) ~ ' is null')) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- if value is string -%}
            {%- do literals.append("'" ~ dbt.escape_single_quotes(value) ~ "'") -%}
        {%- elif value is boolean -%}
            {%- do literals.append('true' if value else 'false') -%}
        {%- else -%}
            {%- do literals.append(value | string) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do checks.append(('accepted_values(' ~ column ~ ')',
                          adapter.quote(column) ~ ' not in (' ~ literals | join(', ') ~ ')')) -%}
{%- endfor -%}
{%- for column, bounds in between.items() -%}
    {%- if bounds | length != 2 -%}
        {{ exceptions.raise_compiler_error("column_values: between." ~ column ~ " must be [min, max], not " ~ bounds) }}
    {%- endif -%}
    {%- do checks.append(('between(' ~ column ~ ')', adapter.quote(column) ~ ' < ' ~ bounds[0]
                          ~ ' or ' ~ adapter.quote(column) ~ ' > ' ~ bounds[1])) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error("column_values on " ~ model ~ " checks nothing") }}
{%- endif %}
with failures_per_check as (
    select
    {%- for name, broken in checks %}
        count_if({{ broken }}) as f{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
select `check`, failures
from (
    select stack({{ checks | length }},
    {%- for name, broken in checks %}
        '{{ dbt.escape_single_quotes(name) }}', f{{ loop.index }}{{ ',' if not loop.last else ')' }}
    {%- endfor %} as (`check`, failures)
    from failures_per_check
)
where failures > 0
{% endtest %}
