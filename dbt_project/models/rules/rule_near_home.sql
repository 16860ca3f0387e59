with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['work_start', 'work_end']) }}

),

working_hours as (

    select
        work_start,
        work_end,
        {{ hhmm_to_minutes('work_start') }} as start_minute,
        {{ hhmm_to_minutes('work_end') }} as end_minute

    from parameters

),

flagged as (

    select
        transactions.*,
        working_hours.work_start,
        working_hours.work_end

    from transactions
    cross join working_hours
    where
        transactions.is_purchase
        and transactions.merchant_region = transactions.home_region
        and (
            not transactions.is_working_day
            or not {{ in_time_window(
                'transactions.minute_of_day', 'working_hours.start_minute', 'working_hours.end_minute'
            ) }}
        )

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' in ' || merchant_region || ', the holder''s home area, on ' || {{ format_minute('transacted_at') }}
        || case
            when not is_working_day then ' (' || {{ weekday_name('iso_day_of_week') }} || ', not a working day)'
            else ' (outside working hours ' || work_start || '-' || work_end || ')'
        end as reason

    from flagged

)

select * from final
