{#-
    The cardholder's own history before each transaction: counts and amounts over 1, 7, 30 and 90 days,
    robust z-scores of the amount against the holder's and the department x grade peers' recent payments,
    the amount against the holder's median, the holder's recent large payments (each above
    var large_payment_multiple times the holder's median before it, counted over var recent_large_payment_days:
    a card or a habit that changed lately), the share of weekend, night and holiday spend, and days since the
    previous transaction.
    Point in time: every window ends strictly before the transaction's timestamp; the peer reference is taken
    as of the start of the transaction's period (var peer_reference_grain, a month by default: the peers' payments
    on the history_days days before it). A daily reference would join every day to 90 days of its peers' payments
    (tens of millions of rows at 2,000 cardholders) for a baseline that barely moves from one day to the next.
-#}

{%- set history_days = var('feature_history_days') %}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

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

flagged as (

    select
        transactions.transaction_id,
        transactions.employee_id,
        transactions.department,
        transactions.grade,
        transactions.transacted_at,
        transactions.amount,
        transactions.is_purchase,
        case when transactions.is_purchase then transactions.amount end as purchase_amount,
        case when transactions.is_purchase then 1 else 0 end as is_purchase_count,
        case when transactions.is_purchase and transactions.is_weekend then transactions.amount else 0 end
            as weekend_amount,
        case when transactions.is_purchase and transactions.is_holiday then transactions.amount else 0 end
            as holiday_amount,
        case
            when
                transactions.is_purchase
                and {{ in_time_window(
                    'transactions.minute_of_day', 'night_window.start_minute', 'night_window.end_minute'
                ) }}
                then transactions.amount
            else 0
        end as night_amount

    from transactions
    cross join night_window

),

windowed as (

    select
        transaction_id,
        employee_id,
        department,
        grade,
        transacted_at,
        amount,
        is_purchase,
        sum(is_purchase_count) over (
            employee_history order by transacted_at {{ strictly_before_frame(1) }}
        ) as txn_count_1d,
        coalesce(sum(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(1) }}
        ), 0) as amount_sum_1d,
        sum(is_purchase_count) over (
            employee_history order by transacted_at {{ strictly_before_frame(7) }}
        ) as txn_count_7d,
        coalesce(sum(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(7) }}
        ), 0) as amount_sum_7d,
        sum(is_purchase_count) over (
            employee_history order by transacted_at {{ strictly_before_frame(30) }}
        ) as txn_count_30d,
        coalesce(sum(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(30) }}
        ), 0) as amount_sum_30d,
        sum(is_purchase_count) over (
            employee_history order by transacted_at {{ strictly_before_frame(90) }}
        ) as txn_count_90d,
        coalesce(sum(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(90) }}
        ), 0) as amount_sum_90d,
        {{ median('purchase_amount') }} over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as own_median_amount,
        {{ mad('purchase_amount') }} over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as own_mad_amount,
        count(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as own_history_count,
        sum(purchase_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as amount_history,
        sum(weekend_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as weekend_amount_history,
        sum(night_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as night_amount_history,
        sum(holiday_amount) over (
            employee_history order by transacted_at {{ strictly_before_frame(history_days) }}
        ) as holiday_amount_history,
        max(transacted_at) over (
            employee_history order by transacted_at {{ strictly_before_frame() }}
        ) as previous_transacted_at

    from flagged
    window employee_history as (partition by employee_id)

),

large_flagged as (

    select
        transaction_id,
        employee_id,
        transacted_at,
        case
            when is_purchase and amount > {{ var('large_payment_multiple') }} * own_median_amount then 1
            else 0
        end as is_large_payment

    from windowed

),

recent_large as (

    select
        transaction_id,
        coalesce(sum(is_large_payment) over (
            partition by employee_id
            order by transacted_at {{ strictly_before_frame(var('recent_large_payment_days')) }}
        ), 0) as recent_large_payment_count

    from large_flagged

),

peer_periods as (

    select distinct
        department,
        grade,
        {{ dbt.date_trunc(var('peer_reference_grain'), 'transacted_date') }} as period_start

    from transactions
    where department is not null and grade is not null

),

peer_history as (

    select
        peer_periods.department,
        peer_periods.grade,
        peer_periods.period_start,
        transactions.amount

    from peer_periods
    inner join transactions
        on
            peer_periods.department = transactions.department
            and peer_periods.grade = transactions.grade
            and peer_periods.period_start > transactions.transacted_date
            and {{ dbt.dateadd('day', -history_days, 'peer_periods.period_start') }} <= transactions.transacted_date
    where transactions.is_purchase

),

peer_reference as (

    select
        department,
        grade,
        period_start,
        count(*) as peer_history_count,
        {{ median('amount') }} as peer_median_amount,
        {{ mad('amount') }} as peer_mad_amount

    from peer_history
    group by department, grade, period_start

),

peer_windowed as (

    select
        transactions.transaction_id,
        peer_reference.peer_median_amount,
        peer_reference.peer_mad_amount,
        peer_reference.peer_history_count

    from transactions
    inner join peer_reference
        on
            transactions.department = peer_reference.department
            and transactions.grade = peer_reference.grade
            and {{ dbt.date_trunc(var('peer_reference_grain'), 'transactions.transacted_date') }}
            = peer_reference.period_start

),

final as (

    select
        windowed.transaction_id,
        cast(windowed.txn_count_1d as integer) as txn_count_1d,
        cast(windowed.amount_sum_1d as double) as amount_sum_1d,
        cast(windowed.txn_count_7d as integer) as txn_count_7d,
        cast(windowed.amount_sum_7d as double) as amount_sum_7d,
        cast(windowed.txn_count_30d as integer) as txn_count_30d,
        cast(windowed.amount_sum_30d as double) as amount_sum_30d,
        cast(windowed.txn_count_90d as integer) as txn_count_90d,
        cast(windowed.amount_sum_90d as double) as amount_sum_90d,
        cast(windowed.own_history_count as integer) as own_history_count,
        cast(
            (windowed.amount - windowed.own_median_amount) / nullif(1.4826 * windowed.own_mad_amount, 0)
            as double
        ) as amount_robust_z_own,
        cast(
            case when windowed.own_median_amount > 0 then windowed.amount / windowed.own_median_amount end
            as double
        ) as amount_to_own_median,
        cast(recent_large.recent_large_payment_count as integer) as recent_large_payment_count,
        cast(peer_windowed.peer_history_count as integer) as peer_history_count,
        cast(
            case
                when peer_windowed.peer_history_count >= {{ var('min_peer_history') }}
                    then
                        (windowed.amount - peer_windowed.peer_median_amount)
                        / nullif(1.4826 * peer_windowed.peer_mad_amount, 0)
            end as double
        ) as amount_robust_z_peer,
        cast(windowed.weekend_amount_history / nullif(windowed.amount_history, 0) as double)
            as weekend_spend_share,
        cast(windowed.night_amount_history / nullif(windowed.amount_history, 0) as double)
            as night_spend_share,
        cast(windowed.holiday_amount_history / nullif(windowed.amount_history, 0) as double)
            as holiday_spend_share,
        cast(
            {{ dbt.datediff(
                'windowed.previous_transacted_at', 'windowed.transacted_at', 'second'
            ) }} / 86400.0 as double
        ) as days_since_previous_transaction

    from windowed
    inner join recent_large
        on windowed.transaction_id = recent_large.transaction_id
    left join peer_windowed
        on windowed.transaction_id = peer_windowed.transaction_id

)

select * from final
