with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

category_groups as (

    select * from {{ ref('rule_category_groups') }}

),

bar_groups as (

    select category_group

    from category_groups
    where rule_id = {{ rule_id() }}

),

flagged as (

    select transactions.*

    from transactions
    inner join bar_groups
        on transactions.category_group = bar_groups.category_group
    where
        transactions.is_purchase
        and not transactions.is_official_event

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' (' || coalesce(merchant_category, 'MCC ' || mcc, 'bar') || ') on '
        || {{ format_minute('transacted_at') }}
        || case
            when claim_id is null then '; bar spending with no expense claim'
            else '; bar spending and claim ' || claim_id || ' is not tagged as an official event'
        end as reason

    from flagged

)

select * from final
