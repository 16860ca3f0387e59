{#-
    The merchant as seen before each transaction: is this the holder's first visit, the holder's visits in
    30 days, how many employees had used it, and its confirmed-misuse rate from matured outcomes only
    (an outcome counts from decided_at + label_delay_days, and only strictly before the transaction):
    over its whole history, and over the labels that matured in the last merchant_recent_short_days and
    merchant_recent_long_days (a merchant that colludes or is compromised for a few weeks shows in its recent
    outcomes long before its lifetime rate moves).
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

case_outcomes as (

    select * from {{ ref('stg_casework__case_outcomes') }}

),

ordered_visits as (

    select
        transaction_id,
        employee_id,
        merchant_key,
        transacted_at,
        case when is_purchase then 1 else 0 end as is_purchase_count,
        row_number() over (
            partition by employee_id, merchant_key order by transacted_at, transaction_id
        ) as employee_visit_number

    from transactions
    where merchant_key is not null

),

visits as (

    select
        *,
        case when employee_visit_number = 1 then 1 else 0 end as is_first_row_for_employee

    from ordered_visits

),

visit_windows as (

    select
        transaction_id,
        merchant_key,
        transacted_at,
        coalesce(sum(is_purchase_count) over (
            partition by employee_id, merchant_key order by transacted_at {{ strictly_before_frame() }}
        ), 0) as employee_visits_before,
        coalesce(sum(is_purchase_count) over (
            partition by employee_id, merchant_key order by transacted_at {{ strictly_before_frame(30) }}
        ), 0) as employee_visits_30d,
        coalesce(sum(is_first_row_for_employee) over (
            partition by merchant_key order by transacted_at {{ strictly_before_frame() }}
        ), 0) as merchant_employee_count

    from visits

),

matured_labels as (

    select
        transactions.merchant_key,
        {{ dbt.dateadd('day', var('label_delay_days'), 'case_outcomes.decided_at') }} as label_known_at,
        case when case_outcomes.is_confirmed_misuse then 1 else 0 end as is_confirmed

    from case_outcomes
    inner join transactions
        on case_outcomes.transaction_id = transactions.transaction_id
    where
        case_outcomes.is_decided
        and transactions.merchant_key is not null

),

label_totals as (

    -- one row per merchant and instant labels matured, with the running totals up to and including it
    select
        merchant_key,
        label_known_at,
        sum(count(*)) over (
            partition by merchant_key order by label_known_at rows unbounded preceding
        ) as labels_to_date,
        sum(sum(is_confirmed)) over (
            partition by merchant_key order by label_known_at rows unbounded preceding
        ) as confirmed_to_date

    from matured_labels
    group by merchant_key, label_known_at

),

-- the totals as known strictly before the transaction, and strictly before the start of each recent window:
-- their difference counts the labels that matured in [transacted_at - N days, transacted_at)
labels_before as (

    select
        visit_windows.transaction_id,
        coalesce(known.labels_to_date, 0) as matured_outcome_count,
        coalesce(known.confirmed_to_date, 0) as matured_confirmed_count,
        coalesce(known.labels_to_date, 0) - coalesce(before_short.labels_to_date, 0) as recent_outcome_count_short,
        coalesce(known.confirmed_to_date, 0) - coalesce(before_short.confirmed_to_date, 0)
            as recent_confirmed_count_short,
        coalesce(known.labels_to_date, 0) - coalesce(before_long.labels_to_date, 0) as recent_outcome_count_long,
        coalesce(known.confirmed_to_date, 0) - coalesce(before_long.confirmed_to_date, 0)
            as recent_confirmed_count_long

    from visit_windows
    asof left join label_totals as known
        on
            visit_windows.merchant_key = known.merchant_key
            and visit_windows.transacted_at > known.label_known_at
    asof left join label_totals as before_short
        on
            visit_windows.merchant_key = before_short.merchant_key
            and {{ dbt.dateadd('day', -var('merchant_recent_short_days'), 'visit_windows.transacted_at') }}
            > before_short.label_known_at
    asof left join label_totals as before_long
        on
            visit_windows.merchant_key = before_long.merchant_key
            and {{ dbt.dateadd('day', -var('merchant_recent_long_days'), 'visit_windows.transacted_at') }}
            > before_long.label_known_at

),

final as (

    select
        visit_windows.transaction_id,
        visit_windows.employee_visits_before = 0 as is_first_visit_to_merchant,
        cast(visit_windows.employee_visits_30d as integer) as merchant_visits_30d,
        cast(visit_windows.merchant_employee_count as integer) as merchant_employee_count,
        cast(labels_before.matured_outcome_count as integer) as merchant_matured_outcome_count,
        cast(
            cast(labels_before.matured_confirmed_count as double)
            / nullif(labels_before.matured_outcome_count, 0) as double
        ) as merchant_confirmed_misuse_rate,
        cast(labels_before.recent_confirmed_count_short as integer) as merchant_recent_confirmed_count_short,
        cast(
            cast(labels_before.recent_confirmed_count_short as double)
            / nullif(labels_before.recent_outcome_count_short, 0) as double
        ) as merchant_recent_misuse_rate_short,
        cast(labels_before.recent_confirmed_count_long as integer) as merchant_recent_confirmed_count_long,
        cast(
            cast(labels_before.recent_confirmed_count_long as double)
            / nullif(labels_before.recent_outcome_count_long, 0) as double
        ) as merchant_recent_misuse_rate_long

    from visit_windows
    inner join labels_before
        on visit_windows.transaction_id = labels_before.transaction_id

)

select * from final
