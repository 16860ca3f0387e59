with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

flagged as (

    select *

    from transactions
    where
        is_purchase
        and (is_weekend or is_holiday)

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || ' (' || {{ weekday_name('iso_day_of_week') }} || ')'
        || case
            when is_holiday then '; a public holiday, legacy filter (' || coalesce(holiday_name, 'holiday') || ')'
            else '; a weekend day (legacy filter)'
        end as reason

    from flagged

)

select * from final
