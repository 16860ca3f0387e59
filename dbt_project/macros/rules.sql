{#-
    Helpers for the rule library (models/rules). A rule model reads its identity and severity from its own
    YAML meta block (meta.rule), so the SQL never repeats them.
-#}

{#-
    The rule's meta block; compilation stops when a rule model has none. Inside a dbt unit test the graph
    is not available, so the id follows the naming convention (model rule_<id>; a singular test keeps meta.id
    equal to it) and the severity is left empty.
-#}
{% macro rule_meta() -%}
    {%- if not execute -%}
        {{ return({'id': 'parsing', 'severity': 0}) }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {%- set tested_model = model.get('tested_node_unique_id', '').split('.')[-1] -%}
        {{ return({'id': tested_model.replace('rule_', '', 1), 'severity': none}) }}
    {%- endif -%}
    {%- set rule = model.config.meta.get('rule') -%}
    {%- if not rule or not rule.get('id') -%}
        {{ exceptions.raise_compiler_error(
            "Rule model " ~ model.name ~ " has no meta.rule block with an id in its YAML (see docs/rules.md)."
            ~ " If the YAML entry is there, the SQL file was added after it: run once with --no-partial-parse."
        ) }}
    {%- endif -%}
    {{ return(rule) }}
{%- endmacro %}

{#- The rule id as a SQL string literal. -#}
{% macro rule_id() -%}
    '{{ rule_meta()['id'] }}'
{%- endmacro %}

{#- The rule's severity (1 = note .. 5 = hard policy violation) as a SQL integer. -#}
{% macro rule_severity() -%}
    {%- set severity = rule_meta()['severity'] -%}
    cast({{ 'null' if severity is none else severity }} as integer)
{%- endmacro %}

{#-
    One row with a column per parameter of this rule (values as text; the rule casts them), from the seed
    rule_parameters. Parameters with several dated rows are read with rule_parameter_periods instead.
-#}
{% macro pivot_rule_parameters(parameters_relation, names, for_rule_id=none) -%}
    select
        {%- for name in names %}
        max(case when parameter = '{{ name }}' then value end) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ parameters_relation }}
    where rule_id = {{ "'" ~ for_rule_id ~ "'" if for_rule_id else rule_id() }}
{%- endmacro %}

{#- Minutes after midnight of an 'HH:MM' text value. -#}
{% macro hhmm_to_minutes(column) -%}
    (cast(split_part({{ column }}, ':', 1) as integer) * 60 + cast(split_part({{ column }}, ':', 2) as integer))
{%- endmacro %}

{#- Whether a minute of the day lies in [start, end), where the window may wrap midnight (23:00-06:00). -#}
{% macro in_time_window(minute_column, start_minutes, end_minutes) -%}
    (
        ({{ start_minutes }} <= {{ end_minutes }}
            and {{ minute_column }} >= {{ start_minutes }} and {{ minute_column }} < {{ end_minutes }})
        or ({{ start_minutes }} > {{ end_minutes }}
            and ({{ minute_column }} >= {{ start_minutes }} or {{ minute_column }} < {{ end_minutes }}))
    )
{%- endmacro %}

{#- A number with thousands separators and no decimals, for reasons ("870,000"). -#}
{% macro format_amount(column) -%}
    {{ return(adapter.dispatch('format_amount', 'cardwatch')(column)) }}
{%- endmacro %}

{% macro default__format_amount(column) -%}
    cast(cast(round({{ column }}, 0) as bigint) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__format_amount(column) -%}
    format('{:,}', cast(round({{ column }}, 0) as bigint))
{%- endmacro %}

{#- A timestamp as 'YYYY-MM-DD HH:MM' for reasons. -#}
{% macro format_minute(column) -%}
    {{ return(adapter.dispatch('format_minute', 'cardwatch')(column)) }}
{%- endmacro %}

{% macro default__format_minute(column) -%}
    substring(cast({{ column }} as {{ dbt.type_string() }}), 1, 16)
{%- endmacro %}

{% macro duckdb__format_minute(column) -%}
    strftime({{ column }}, '%Y-%m-%d %H:%M')
{%- endmacro %}

{#- The merchant as a reason shows it: its name, else its id. -#}
{% macro merchant_label(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    coalesce({{ prefix }}merchant_name, {{ prefix }}merchant_id, 'an unnamed merchant')
{%- endmacro %}

{#- English weekday abbreviation of an ISO day-of-week number (1 = Monday). -#}
{% macro weekday_name(iso_day_column) -%}
    case {{ iso_day_column }}
        when 1 then 'Mon' when 2 then 'Tue' when 3 then 'Wed' when 4 then 'Thu'
        when 5 then 'Fri' when 6 then 'Sat' when 7 then 'Sun'
    end
{%- endmacro %}

{#- Median of a column (ordered-set aggregate; DuckDB spells it median). -#}
{% macro median(column) -%}
    {{ return(adapter.dispatch('median', 'cardwatch')(column)) }}
{%- endmacro %}

{% macro default__median(column) -%}
    percentile_cont(0.5) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__median(column) -%}
    median({{ column }})
{%- endmacro %}

{#-
    The purchases of a relation, each with the previous purchase of the same card, merchant and amount
    (previous_same_at, previous_same_transaction_id): the duplicate rules (duplicate_payment, repeat_payment).
-#}
{% macro previous_same_payment(transactions_relation) -%}
    select
        *,
        lag(transacted_at) over (
            partition by card_id, merchant_key, amount order by transacted_at, transaction_id
        ) as previous_same_at,
        lag(transaction_id) over (
            partition by card_id, merchant_key, amount order by transacted_at, transaction_id
        ) as previous_same_transaction_id

    from {{ transactions_relation }}
    where is_purchase
{%- endmacro %}
