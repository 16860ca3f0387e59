{#-
    The transaction's own context: time, calendar, leave, trips, regions, employment, the claim's
    attendees, distance to the approval line and to the per-person cap, and the roundness of the amount.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

leave_periods as (

    select * from {{ ref('stg_hr__leave_periods') }}

),

trips as (

    select * from {{ ref('stg_hr__trips') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

night_parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['window_start', 'window_end'], for_rule_id='late_night') }}

),

night_window as (

    select
        {{ hhmm_to_minutes('window_start') }} as start_minute,
        {{ hhmm_to_minutes('window_end') }} as end_minute

    from night_parameters

),

cap_values as (

    select
        cast(value as decimal(18, 2)) as cap_krw,
        coalesce(valid_from, cast('1900-01-01' as date)) as valid_from

    from rule_parameters
    where
        rule_id = 'per_person_cap'
        and parameter = 'meal_cap_krw'

),

cap_periods as (

    select
        cap_krw,
        valid_from,
        lead(valid_from) over (order by valid_from) as valid_until

    from cap_values

),

on_leave as (

    select distinct transactions.transaction_id

    from transactions
    inner join leave_periods
        on
            transactions.employee_id = leave_periods.employee_id
            and transactions.transacted_date
            between leave_periods.leave_start_date and leave_periods.leave_end_date

),

on_trip as (

    select distinct transactions.transaction_id

    from transactions
    inner join trips
        on
            transactions.employee_id = trips.employee_id
            and transactions.transacted_date between trips.trip_start_date and trips.trip_end_date

),

final as (

    select
        transactions.transaction_id,
        cast(transactions.transacted_hour as integer) as transacted_hour,
        cast(transactions.iso_day_of_week as integer) as iso_day_of_week,
        transactions.is_weekend,
        transactions.is_holiday,
        transactions.is_working_day,
        {{ in_time_window(
            'transactions.minute_of_day', 'night_window.start_minute', 'night_window.end_minute'
        ) }} as is_night,
        on_leave.transaction_id is not null as is_on_leave,
        on_trip.transaction_id is not null as is_on_trip,
        coalesce(transactions.merchant_region <> transactions.work_region, false) as is_away_from_work_region,
        coalesce(transactions.merchant_region = transactions.home_region, false) as is_near_home,
        coalesce(transactions.transacted_date > transactions.termination_date, false) as is_after_termination,
        cast({{ dbt.datediff(
            'transactions.hire_date', 'transactions.transacted_date', 'day'
        ) }} as integer) as days_since_hire,
        cast(transactions.attendee_count as integer) as attendee_count,
        cast(transactions.amount / nullif(transactions.attendee_count, 0) as double) as amount_per_attendee,
        cast(
            ({{ var('approval_line_krw') }} - transactions.amount) / {{ var('approval_line_krw') }} as double
        ) as approval_line_distance,
        cast(
            (cap_periods.cap_krw - transactions.amount / nullif(transactions.attendee_count, 0))
            / cap_periods.cap_krw as double
        ) as per_person_cap_distance,
        cast(
            case
                when transactions.amount = 0 then 0
                when mod(transactions.amount, 1000000) = 0 then 6
                when mod(transactions.amount, 100000) = 0 then 5
                when mod(transactions.amount, 10000) = 0 then 4
                when mod(transactions.amount, 1000) = 0 then 3
                when mod(transactions.amount, 100) = 0 then 2
                when mod(transactions.amount, 10) = 0 then 1
                else 0
            end as integer
        ) as amount_trailing_zeros,
        transactions.category_group,
        transactions.is_purchase

    from transactions
    cross join night_window
    left join cap_periods
        on
            transactions.transacted_date >= cap_periods.valid_from
            and (cap_periods.valid_until is null or transactions.transacted_date < cap_periods.valid_until)
    left join on_leave
        on transactions.transaction_id = on_leave.transaction_id
    left join on_trip
        on transactions.transaction_id = on_trip.transaction_id

)

select * from final
