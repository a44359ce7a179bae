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

{#- The first month an incremental monthly model (partitioned by `month`) recomputes, or none for a full build: every
    month from it on is rebuilt whole and replaces the table's months from it on (get_insert_overwrite_sql), so a
    month rebuilt alone equals the same month of a full build. It is `recompute_from`, or an earlier month when the
    run's deliveries (staging `period` >= it) of the model's `recompute_with` stagings (config: model names) hold
    rows for one (a late reading). -#}
{% macro recompute_since() -%}
    {%- set first = incremental_from(this.identifier, this.schema) -%}
    {%- set stagings = config.get('recompute_with') or [] -%}
    {%- if first is none or not stagings -%}
        {{- return(first) -}}
    {%- endif -%}
    {%- set query -%}
        select min(month) from (
        {%- for name in stagings %}
            select month from {{ ref(name) }} where period >= '{{ first }}'{{ ' union all' if not loop.last }}
        {%- endfor %})
    {%- endset -%}
    {%- set touched = run_query(query).columns[0].values()[0] -%}
    {{- return(touched if touched and touched < first else first) -}}
{%- endmacro %}

{#- dbt-spark's `insert_overwrite` strategy, for the monthly models on Delta: `insert into ... replace where month >=
    <recompute_since>` (one Delta commit that removes those months and adds the recomputed rows, checked to lie in
    them) instead of Spark's SQL `insert overwrite` with dynamic partitions, which takes twice as long for the same
    rows (docs/performance.md). Any other model keeps dbt-spark's statement. -#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set since = recompute_since() -%}
    {%- set dest_cols_csv = adapter.get_columns_in_relation(target_relation) | map(attribute='quoted') | join(', ') -%}
    {%- if since and existing_relation.is_delta and config.get('partition_by') in (['month'], 'month') %}
    insert into {{ target_relation }} replace where month >= '{{ since }}'
    {%- else %}
    insert overwrite table {{ target_relation }}
    {{ partition_cols(label="partition") }}
    {%- endif %}
    select {{ dest_cols_csv }} from {{ source_relation }}
{% endmacro %}
