{#-
    The features mart the models read: one row per transaction, every feature point-in-time correct
    (see docs/features.md). The column list is an enforced contract.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

employee_history as (

    select * from {{ ref('feat_employee_history') }}

),

merchant_history as (

    select * from {{ ref('feat_merchant_history') }}

),

transaction_context as (

    select * from {{ ref('feat_transaction_context') }}

),

rule_hit_features as (

    select * from {{ ref('feat_rule_hits') }}

),

final as (

    select
        transactions.transaction_id,
        transactions.employee_id,
        transactions.card_id,
        transactions.transacted_at,
        transactions.transacted_date,
        cast(transactions.amount as double) as amount,
        transactions.merchant_key,
        transactions.category_group,
        transactions.is_purchase,
        transaction_context.transacted_hour,
        transaction_context.iso_day_of_week,
        transaction_context.is_weekend,
        transaction_context.is_holiday,
        transaction_context.is_working_day,
        transaction_context.is_night,
        employee_history.txn_count_1d,
        employee_history.txn_count_7d,
        employee_history.txn_count_30d,
        employee_history.txn_count_90d,
        employee_history.amount_sum_1d,
        employee_history.amount_sum_7d,
        employee_history.amount_sum_30d,
        employee_history.amount_sum_90d,
        employee_history.own_history_count,
        employee_history.amount_robust_z_own,
        employee_history.amount_to_own_median,
        employee_history.recent_large_payment_count,
        employee_history.peer_history_count,
        employee_history.amount_robust_z_peer,
        employee_history.weekend_spend_share,
        employee_history.night_spend_share,
        employee_history.holiday_spend_share,
        employee_history.days_since_previous_transaction,
        coalesce(merchant_history.is_first_visit_to_merchant, true) as is_first_visit_to_merchant,
        coalesce(merchant_history.merchant_visits_30d, 0) as merchant_visits_30d,
        coalesce(merchant_history.merchant_employee_count, 0) as merchant_employee_count,
        coalesce(merchant_history.merchant_matured_outcome_count, 0) as merchant_matured_outcome_count,
        merchant_history.merchant_confirmed_misuse_rate,
        coalesce(merchant_history.merchant_recent_confirmed_count_short, 0) as merchant_recent_confirmed_count_short,
        merchant_history.merchant_recent_misuse_rate_short,
        coalesce(merchant_history.merchant_recent_confirmed_count_long, 0) as merchant_recent_confirmed_count_long,
        merchant_history.merchant_recent_misuse_rate_long,
        transaction_context.is_on_leave,
        transaction_context.is_on_trip,
        transaction_context.is_away_from_work_region,
        transaction_context.is_near_home,
        transaction_context.is_after_termination,
        transaction_context.days_since_hire,
        transaction_context.attendee_count,
        transaction_context.amount_per_attendee,
        transaction_context.approval_line_distance,
        transaction_context.per_person_cap_distance,
        transaction_context.amount_trailing_zeros,
        cast(coalesce(rule_hit_features.rule_hit_count, 0) as integer) as rule_hit_count,
        cast(coalesce(rule_hit_features.legacy_rule_hit_count, 0) as integer) as legacy_rule_hit_count,
        cast(coalesce(rule_hit_features.rule_max_severity, 0) as integer) as rule_max_severity,
        coalesce(rule_hit_features.rule_ids_hit, '') as rule_ids_hit

    from transactions
    inner join employee_history
        on transactions.transaction_id = employee_history.transaction_id
    inner join transaction_context
        on transactions.transaction_id = transaction_context.transaction_id
    left join merchant_history
        on transactions.transaction_id = merchant_history.transaction_id
    left join rule_hit_features
        on transactions.transaction_id = rule_hit_features.transaction_id

)

select * from final
