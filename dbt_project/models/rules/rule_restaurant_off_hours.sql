with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

category_groups as (

    select * from {{ ref('rule_category_groups') }}

),

parameters as (

    {{ pivot_rule_parameters(
        'rule_parameters', ['window_1_start', 'window_1_end', 'window_2_start', 'window_2_end']
    ) }}

),

off_hours as (

    select
        window_1_start,
        window_1_end,
        window_2_start,
        window_2_end,
        {{ hhmm_to_minutes('window_1_start') }} as window_1_start_minute,
        {{ hhmm_to_minutes('window_1_end') }} as window_1_end_minute,
        {{ hhmm_to_minutes('window_2_start') }} as window_2_start_minute,
        {{ hhmm_to_minutes('window_2_end') }} as window_2_end_minute

    from parameters

),

restaurant_groups as (

    select category_group

    from category_groups
    where rule_id = {{ rule_id() }}

),

flagged as (

    select
        transactions.*,
        off_hours.window_1_start,
        off_hours.window_1_end,
        off_hours.window_2_start,
        off_hours.window_2_end

    from transactions
    inner join restaurant_groups
        on transactions.category_group = restaurant_groups.category_group
    cross join off_hours
    where
        transactions.is_purchase
        and (
            {{ in_time_window(
                'transactions.minute_of_day', 'off_hours.window_1_start_minute', 'off_hours.window_1_end_minute'
            ) }}
            or {{ in_time_window(
                'transactions.minute_of_day', 'off_hours.window_2_start_minute', 'off_hours.window_2_end_minute'
            ) }}
        )

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at restaurant ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }}
        || '; outside meal hours (non-meal windows ' || window_1_start || '-' || window_1_end
        || ' and ' || window_2_start || '-' || window_2_end || ')' as reason

    from flagged

)

select * from final
