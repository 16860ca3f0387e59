with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['round_unit_krw', 'min_amount_krw']) }}

),

limits as (

    select
        cast(round_unit_krw as decimal(18, 2)) as round_unit_krw,
        cast(min_amount_krw as decimal(18, 2)) as min_amount_krw

    from parameters

),

flagged as (

    select
        transactions.*,
        limits.round_unit_krw,
        limits.min_amount_krw

    from transactions
    cross join limits
    where
        transactions.is_purchase
        and transactions.amount >= limits.min_amount_krw
        and mod(transactions.amount, limits.round_unit_krw) = 0

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || '; a round multiple of '
        || {{ format_amount('round_unit_krw') }} || ' KRW at or over ' || {{ format_amount('min_amount_krw') }}
        || ' KRW' as reason

    from flagged

)

select * from final
