with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

flagged as (

    select
        *,
        {{ dbt.datediff(
            'termination_date', 'transacted_date', 'day'
        ) }} as days_after_termination

    from transactions
    where
        is_purchase
        and termination_date is not null
        and transacted_date > termination_date

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || '; '
        || cast(days_after_termination as {{ dbt.type_string() }})
        || ' days after the holder''s termination on '
        || cast(termination_date as {{ dbt.type_string() }}) as reason

    from flagged

)

select * from final
