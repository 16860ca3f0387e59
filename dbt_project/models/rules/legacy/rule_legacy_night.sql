with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['window_start', 'window_end']) }}

),

night_window as (

    select
        window_start,
        window_end,
        {{ hhmm_to_minutes('window_start') }} as start_minute,
        {{ hhmm_to_minutes('window_end') }} as end_minute

    from parameters

),

flagged as (

    select
        transactions.*,
        night_window.window_start,
        night_window.window_end

    from transactions
    cross join night_window
    where
        transactions.is_purchase
        and {{ in_time_window(
            'transactions.minute_of_day', 'night_window.start_minute', 'night_window.end_minute'
        ) }}

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }}
        || '; inside the ' || window_start || '-' || window_end || ' legacy night window' as reason

    from flagged

)

select * from final
