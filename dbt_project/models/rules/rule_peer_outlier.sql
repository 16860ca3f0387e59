{#-
    Peer outlier (동료 대비 과다): the holder's month-to-date spend against the monthly spend of the same
    department x grade over the previous history_months full months, as a robust z-score
    (median / 1.4826 x MAD). Flags the transaction at which the month-to-date spend crosses z_threshold.
    Causal: the reference uses past months only and the month-to-date only earlier payments.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['z_threshold', 'history_months', 'min_peer_months']) }}

),

limits as (

    select
        cast(z_threshold as double) as z_threshold,
        cast(history_months as integer) as history_months,
        cast(min_peer_months as integer) as min_peer_months

    from parameters

),

purchases as (

    select
        transactions.*,
        cast({{ dbt.date_trunc('month', 'transactions.transacted_date') }} as date) as spend_month

    from transactions
    where
        transactions.is_purchase
        and transactions.department is not null
        and transactions.grade is not null

),

employee_months as (

    select
        employee_id,
        department,
        grade,
        spend_month,
        sum(amount) as monthly_spend

    from purchases
    group by employee_id, department, grade, spend_month

),

group_months as (

    select distinct
        department,
        grade,
        spend_month

    from employee_months

),

reference_rows as (

    select
        group_months.department,
        group_months.grade,
        group_months.spend_month,
        employee_months.monthly_spend

    from group_months
    cross join limits
    inner join employee_months
        on
            group_months.department = employee_months.department
            and group_months.grade = employee_months.grade
            and group_months.spend_month > employee_months.spend_month
            and {{ dbt.dateadd('month', '-1 * limits.history_months', 'group_months.spend_month') }}
            <= employee_months.spend_month

),

reference_medians as (

    select
        department,
        grade,
        spend_month,
        count(*) as peer_months,
        {{ median('monthly_spend') }} as median_spend

    from reference_rows
    group by department, grade, spend_month

),

reference_spread as (

    select
        reference_medians.department,
        reference_medians.grade,
        reference_medians.spend_month,
        reference_medians.peer_months,
        reference_medians.median_spend,
        {{ median('abs(reference_rows.monthly_spend - reference_medians.median_spend)') }} as mad_spend

    from reference_medians
    inner join reference_rows
        on
            reference_medians.department = reference_rows.department
            and reference_medians.grade = reference_rows.grade
            and reference_medians.spend_month = reference_rows.spend_month
    group by
        reference_medians.department,
        reference_medians.grade,
        reference_medians.spend_month,
        reference_medians.peer_months,
        reference_medians.median_spend

),

month_to_date as (

    select
        *,
        sum(amount) over (
            partition by employee_id, spend_month
            order by transacted_at, transaction_id
            rows between unbounded preceding and current row
        ) as month_to_date_spend

    from purchases

),

scored as (

    select
        month_to_date.*,
        reference_spread.median_spend,
        reference_spread.peer_months,
        limits.z_threshold,
        (month_to_date.month_to_date_spend - reference_spread.median_spend)
        / (1.4826 * reference_spread.mad_spend) as robust_z,
        (month_to_date.month_to_date_spend - month_to_date.amount - reference_spread.median_spend)
        / (1.4826 * reference_spread.mad_spend) as previous_robust_z

    from month_to_date
    inner join reference_spread
        on
            month_to_date.department = reference_spread.department
            and month_to_date.grade = reference_spread.grade
            and month_to_date.spend_month = reference_spread.spend_month
    cross join limits
    where
        reference_spread.mad_spend > 0
        and reference_spread.peer_months >= limits.min_peer_months

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' brings the holder''s spend this month to ' || {{ format_amount('month_to_date_spend') }}
        || ' ' || currency || ', robust z ' || cast(round(robust_z, 1) as {{ dbt.type_string() }})
        || ' against the ' || department || ' / ' || grade || ' peers'' median month of '
        || {{ format_amount('median_spend') }} || ' (' || cast(peer_months as {{ dbt.type_string() }})
        || ' employee-months); threshold ' || cast(z_threshold as {{ dbt.type_string() }}) as reason

    from scored
    where
        robust_z > z_threshold
        and previous_robust_z <= z_threshold

)

select * from final
