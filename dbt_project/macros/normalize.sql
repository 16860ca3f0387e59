{#- Text cleaning shared by the staging models. -#}

{#- Trim, collapse inner whitespace, and turn empty strings into null. -#}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace(cast({{ column }} as {{ dbt.type_string() }}), '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Lower-cased clean text, for codes and category words. -#}
{% macro clean_code(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{#- Digits only (business registration numbers), null when nothing is left. -#}
{% macro digits_only(column) -%}
    nullif(regexp_replace(cast({{ column }} as {{ dbt.type_string() }}), '[^0-9]', '', 'g'), '')
{%- endmacro %}

{#- Keep the first row per key, by load order (the contract's "first one is kept"). -#}
{% macro first_loaded_row_number(key_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _loaded_at, _file, _line
    )
{%- endmacro %}
