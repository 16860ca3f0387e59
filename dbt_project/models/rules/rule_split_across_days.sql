{#-
    Split across days: one holder's payments at one merchant within window_days, each under the
    single-purchase limit, together reaching it, on more than one day. Causal: each transaction is judged
    with itself and the earlier parts in its window.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['limit_krw', 'window_days']) }}

),

limits as (

    select
        cast(limit_krw as decimal(18, 2)) as limit_krw,
        cast(window_days as integer) as window_days

    from parameters

),

purchases as (

    select * from transactions
    where is_purchase

),

windows as (

    select
        current_part.transaction_id,
        count(*) as parts_in_window,
        sum(earlier_part.amount) as total_in_window,
        max(earlier_part.amount) as largest_part,
        min(earlier_part.transacted_date) as first_part_date

    from purchases as current_part
    cross join limits
    inner join purchases as earlier_part
        on
            current_part.employee_id = earlier_part.employee_id
            and current_part.merchant_key = earlier_part.merchant_key
            and current_part.transacted_at >= earlier_part.transacted_at
            and {{ dbt.dateadd('day', '-1 * limits.window_days', 'current_part.transacted_at') }}
            < earlier_part.transacted_at
    group by current_part.transaction_id

),

flagged as (

    select
        purchases.*,
        windows.parts_in_window,
        windows.total_in_window,
        windows.first_part_date,
        limits.limit_krw,
        limits.window_days

    from purchases
    inner join windows
        on purchases.transaction_id = windows.transaction_id
    cross join limits
    where
        windows.parts_in_window >= 2
        and windows.largest_part < limits.limit_krw
        and windows.total_in_window >= limits.limit_krw
        and windows.first_part_date < purchases.transacted_date

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        cast(parts_in_window as {{ dbt.type_string() }}) || ' payments at ' || {{ merchant_label() }}
        || ' from ' || cast(first_part_date as {{ dbt.type_string() }})
        || ' to ' || cast(transacted_date as {{ dbt.type_string() }})
        || ' totalling ' || {{ format_amount('total_in_window') }} || ' ' || currency
        || '; each under the ' || {{ format_amount('limit_krw') }} || ' KRW single-purchase limit, within '
        || cast(window_days as {{ dbt.type_string() }}) || ' days' as reason

    from flagged

)

select * from final
