{#-
    A silver table, declared as a dbt source (models/staging/_silver__sources.yml, generated from the catalogue).
    A dataset that no department has delivered yet stands in as an empty relation with the catalogue's columns,
    so gold builds, with no rows from it, before every source has delivered.
-#}
{% macro silver_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(database=relation.database, schema=relation.schema,
                                            identifier=relation.identifier) is none -%}
        {%- set node = graph.sources['source.creditlake.' ~ source_name ~ '.' ~ table_name] -%}
        (select
        {%- for name, column in node.columns.items() %}
            cast(null as {{ column.data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where 1 = 0) as not_delivered
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
