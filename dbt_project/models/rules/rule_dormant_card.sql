with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['idle_days']) }}

),

limits as (

    select cast(idle_days as integer) as idle_days
    from parameters

),

card_gaps as (

    select
        *,
        lag(transacted_date) over (
            partition by card_id order by transacted_at, transaction_id
        ) as previous_use_date

    from transactions
    where is_purchase

),

flagged as (

    select
        card_gaps.*,
        limits.idle_days,
        {{ dbt.datediff(
            'card_gaps.previous_use_date', 'card_gaps.transacted_date', 'day'
        ) }} as days_idle

    from card_gaps
    cross join limits
    where
        card_gaps.previous_use_date is not null
        and {{ dbt.datediff(
            'card_gaps.previous_use_date', 'card_gaps.transacted_date', 'day'
        ) }} >= limits.idle_days

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || '; card ' || card_id || ' was idle for '
        || cast(days_idle as {{ dbt.type_string() }}) || ' days (dormant from '
        || cast(idle_days as {{ dbt.type_string() }}) || ')' as reason

    from flagged

)

select * from final
