{#- The old filter's split test: same holder, merchant and day; parts under the line adding up to it. -#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['line_krw']) }}

),

limits as (

    select cast(line_krw as decimal(18, 2)) as line_krw
    from parameters

),

running as (

    select
        *,
        count(*) over same_day_so_far as parts_so_far,
        sum(amount) over same_day_so_far as total_so_far,
        max(amount) over same_day_so_far as largest_part

    from transactions
    where is_purchase
    window same_day_so_far as (
        partition by employee_id, merchant_key, transacted_date
        order by transacted_at, transaction_id
        rows between unbounded preceding and current row
    )

),

flagged as (

    select
        running.*,
        limits.line_krw

    from running
    cross join limits
    where
        running.parts_so_far >= 2
        and running.largest_part < limits.line_krw
        and running.total_so_far >= limits.line_krw

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        cast(parts_so_far as {{ dbt.type_string() }}) || ' payments at ' || {{ merchant_label() }}
        || ' on ' || cast(transacted_date as {{ dbt.type_string() }}) || ' totalling '
        || {{ format_amount('total_so_far') }} || ' ' || currency
        || '; each under the ' || {{ format_amount('line_krw') }} || ' KRW line (legacy same-day test)' as reason

    from flagged

)

select * from final
