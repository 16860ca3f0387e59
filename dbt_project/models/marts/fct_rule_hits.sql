{#-
    Every rule's hits with the rule's set, status and activity, the transaction's context and the matching
    suppression (seed rule_suppressions), if any. Suppressed hits stay here so every rule is measured.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rules as (

    select * from {{ ref('int_rules_activated') }}

),

suppressions as (

    select * from {{ ref('rule_suppressions') }}

),

rule_hits as (

    select * from {{ ref('int_rule_hits_unioned') }}

),

hits_in_context as (

    select
        rule_hits.transaction_id,
        rule_hits.rule_id,
        rules.rule_set,
        rules.rule_status,
        rules.is_active as is_rule_active,
        rules.is_alerting as is_rule_alerting,
        rule_hits.severity,
        rule_hits.reason,
        transactions.employee_id,
        transactions.card_id,
        transactions.merchant_id,
        transactions.merchant_key,
        transactions.merchant_name,
        transactions.transacted_at,
        transactions.transacted_date,
        transactions.amount

    from rule_hits
    inner join transactions
        on rule_hits.transaction_id = transactions.transaction_id
    inner join rules
        on rule_hits.rule_id = rules.rule_id

),

matched_suppressions as (

    select
        hits_in_context.transaction_id,
        hits_in_context.rule_id,
        min(suppressions.suppression_id) as suppression_id

    from hits_in_context
    inner join suppressions
        on
            (suppressions.rule_id is null or hits_in_context.rule_id = suppressions.rule_id)
            and (suppressions.employee_id is null or hits_in_context.employee_id = suppressions.employee_id)
            and (
                suppressions.merchant_id is null
                or hits_in_context.merchant_id = suppressions.merchant_id
                or hits_in_context.merchant_key = suppressions.merchant_id
            )
            and hits_in_context.transacted_date between suppressions.valid_from and suppressions.expires_on
    group by hits_in_context.transaction_id, hits_in_context.rule_id

),

final as (

    select
        {{ surrogate_key(['hits_in_context.transaction_id', 'hits_in_context.rule_id']) }} as rule_hit_id,
        hits_in_context.*,
        matched_suppressions.suppression_id is not null as is_suppressed,
        matched_suppressions.suppression_id,
        hits_in_context.is_rule_alerting and matched_suppressions.suppression_id is null as is_alert_candidate

    from hits_in_context
    left join matched_suppressions
        on
            hits_in_context.transaction_id = matched_suppressions.transaction_id
            and hits_in_context.rule_id = matched_suppressions.rule_id

)

select * from final
