{#-
    Window frames for point-in-time features: only rows strictly before the current row's timestamp (rows
    at the same instant are not "before"), over the last `days` days or the whole past.
-#}
{% macro strictly_before_frame(days=none) -%}
    {%- if days is none -%}
        range between unbounded preceding and interval 1 microsecond preceding
    {%- else -%}
        range between interval {{ days | int }} day preceding and interval 1 microsecond preceding
    {%- endif -%}
{%- endmacro %}

{#- Median absolute deviation (DuckDB aggregate; also usable as a window function). -#}
{% macro mad(column) -%}
    {{ return(adapter.dispatch('mad', 'cardwatch')(column)) }}
{%- endmacro %}

{% macro duckdb__mad(column) -%}
    mad({{ column }})
{%- endmacro %}

{% macro default__mad(column) -%}
    {{ exceptions.raise_compiler_error("mad() has no portable window form; add an adapter implementation.") }}
{%- endmacro %}
