{#- Schemas are the lake's layers (staging, gold), not "<target>_<custom>" as dbt does by default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
