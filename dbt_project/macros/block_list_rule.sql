{#
    A block-list rule: one row per purchase whose merchant category group is on the rule's list in
    the seed rule_category_groups (the analyst edits the list there, not here).
    `finding` names the list in the reason, e.g. "cash-equivalent purchase".
#}
{% macro block_list_rule(finding) -%}
with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

category_groups as (

    select * from {{ ref('rule_category_groups') }}

),

block_list as (

    select
        category_group,
        description as block_list_entry

    from category_groups
    where rule_id = {{ rule_id() }}

),

flagged as (

    select
        transactions.*,
        block_list.block_list_entry

    from transactions
    inner join block_list
        on transactions.category_group = block_list.category_group
    where transactions.is_purchase

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' (' || coalesce(merchant_category, 'MCC ' || mcc, 'unknown category') || ') on '
        || {{ format_minute('transacted_at') }}
        || '; {{ finding }} (' || block_list_entry || ')' as reason

    from flagged

)

select * from final
{%- endmacro %}
