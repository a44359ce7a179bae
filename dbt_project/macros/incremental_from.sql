{#-
    The first month an incremental gold model recomputes, or none for a full build.

    The pipeline passes `--vars '{recompute_from: YYYY-MM}'`: the earliest month of the run (a new month, or the
    first month of a backfill). Every month from it to the end is recomputed (later months read earlier ones through
    12-month windows), earlier months stay as they are. None when the var is absent, on --full-refresh, or while the
    model's table does not exist yet: then the model builds every month. Upstream views that feed the model call it
    with the model's name, so their look-back filters apply exactly when the model is incremental. `schema`: where
    the model's table lives (gold for marts, silver for the monthly facts).
-#}
{% macro incremental_from(model_name, schema='gold') -%}
    {%- set first = var('recompute_from', none) -%}
    {%- if first is none or flags.FULL_REFRESH or not execute -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set existing = adapter.get_relation(database=none, schema=schema, identifier=model_name) -%}
    {{- return(first if existing is not none and existing.is_table else none) -}}
{%- endmacro %}

{#- The month `months` before `month` (YYYY-MM), as a SQL string literal. -#}
{% macro months_before(month, months) -%}
    date_format(add_months(to_date('{{ month }}-01'), -{{ months }}), 'yyyy-MM')
{%- endmacro %}

{#- A monthly fact's rows to recompute when it is built incrementally from `first`: every month that the run's
    deliveries (staging `period` >= first) of any of its `stagings` (a list of relations) hold rows for, whole
    (with the rows earlier deliveries gave it), so a month rebuilt alone equals the same month of a full build.
    Nothing to filter on a full build. -#}
{% macro months_delivered_since(stagings, first) -%}
    {%- if first -%}
    where month in (
        {%- for staging in stagings %}
        select month from {{ staging }} where period >= '{{ first }}'{{ ' union' if not loop.last }}
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}
