with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['line_krw']) }}

),

limits as (

    select cast(line_krw as decimal(18, 2)) as line_krw
    from parameters

),

flagged as (

    select
        transactions.*,
        limits.line_krw

    from transactions
    cross join limits
    where
        transactions.is_purchase
        and transactions.amount >= limits.line_krw

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }}
        || '; at or over the ' || {{ format_amount('line_krw') }} || ' KRW line (legacy filter)' as reason

    from flagged

)

select * from final
