with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

leave_periods as (

    select * from {{ ref('stg_hr__leave_periods') }}

),

matched as (

    select
        transactions.*,
        leave_periods.leave_type,
        leave_periods.leave_start_date,
        leave_periods.leave_end_date,
        row_number() over (
            partition by transactions.transaction_id order by leave_periods.leave_start_date
        ) as leave_order

    from transactions
    inner join leave_periods
        on
            transactions.employee_id = leave_periods.employee_id
            and transactions.transacted_date
            between leave_periods.leave_start_date and leave_periods.leave_end_date
    where transactions.is_purchase

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || '; the holder is on ' || leave_type
        || ' leave from ' || cast(leave_start_date as {{ dbt.type_string() }})
        || ' to ' || cast(leave_end_date as {{ dbt.type_string() }}) as reason

    from matched
    where leave_order = 1

)

select * from final
