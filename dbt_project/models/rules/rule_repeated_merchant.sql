{#- Repeated same merchant: the holder's visits to one merchant in the window reach max_visits (causal). -#}

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

    {{ pivot_rule_parameters('rule_parameters', ['max_visits', 'window_days']) }}

),

limits as (

    select
        cast(max_visits as integer) as max_visits,
        cast(window_days as integer) as window_days

    from parameters

),

excluded_groups as (

    select category_group

    from category_groups
    where rule_id = 'repeated_merchant_excluded'

),

visits as (

    select transactions.*

    from transactions
    left join excluded_groups
        on transactions.category_group = excluded_groups.category_group
    where
        transactions.is_purchase
        and excluded_groups.category_group is null

),

window_counts as (

    select
        current_visit.transaction_id,
        count(*) as visits_in_window,
        sum(earlier_visit.amount) as amount_in_window

    from visits as current_visit
    cross join limits
    inner join visits as earlier_visit
        on
            current_visit.employee_id = earlier_visit.employee_id
            and current_visit.merchant_key = earlier_visit.merchant_key
            and current_visit.transacted_at >= earlier_visit.transacted_at
            and {{ dbt.dateadd('day', '-1 * limits.window_days', 'current_visit.transacted_at') }}
            < earlier_visit.transacted_at
    group by current_visit.transaction_id

),

flagged as (

    select
        visits.*,
        window_counts.visits_in_window,
        window_counts.amount_in_window,
        limits.max_visits,
        limits.window_days

    from visits
    inner join window_counts
        on visits.transaction_id = window_counts.transaction_id
    cross join limits
    where window_counts.visits_in_window >= limits.max_visits

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        'Visit ' || cast(visits_in_window as {{ dbt.type_string() }}) || ' to ' || {{ merchant_label() }}
        || ' in ' || cast(window_days as {{ dbt.type_string() }}) || ' days ('
        || {{ format_amount('amount_in_window') }} || ' ' || currency || ' in total); the threshold is '
        || cast(max_visits as {{ dbt.type_string() }}) || ' visits' as reason

    from flagged

)

select * from final
