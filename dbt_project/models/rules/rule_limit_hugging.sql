{#- Limit hugging: amounts in the band just under the line, min_repeats times within window_days (causal). -#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['line_krw', 'band_low_pct', 'min_repeats', 'window_days']) }}

),

limits as (

    select
        cast(line_krw as decimal(18, 2)) as line_krw,
        cast(line_krw as decimal(18, 2)) * cast(band_low_pct as decimal(18, 4)) / 100 as band_low_krw,
        cast(band_low_pct as integer) as band_low_pct,
        cast(min_repeats as integer) as min_repeats,
        cast(window_days as integer) as window_days

    from parameters

),

band_hits as (

    select transactions.*

    from transactions
    cross join limits
    where
        transactions.is_purchase
        and transactions.amount >= limits.band_low_krw
        and transactions.amount < limits.line_krw

),

window_counts as (

    select
        current_hit.transaction_id,
        count(*) as hits_in_window

    from band_hits as current_hit
    cross join limits
    inner join band_hits as earlier_hit
        on
            current_hit.employee_id = earlier_hit.employee_id
            and current_hit.transacted_at >= earlier_hit.transacted_at
            and {{ dbt.dateadd('day', '-1 * limits.window_days', 'current_hit.transacted_at') }}
            < earlier_hit.transacted_at
    group by current_hit.transaction_id

),

flagged as (

    select
        band_hits.*,
        window_counts.hits_in_window,
        limits.line_krw,
        limits.band_low_pct,
        limits.window_days

    from band_hits
    inner join window_counts
        on band_hits.transaction_id = window_counts.transaction_id
    cross join limits
    where window_counts.hits_in_window >= limits.min_repeats

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' is payment ' || cast(hits_in_window as {{ dbt.type_string() }}) || ' in '
        || cast(window_days as {{ dbt.type_string() }}) || ' days between '
        || cast(band_low_pct as {{ dbt.type_string() }}) || '% and 100% of the '
        || {{ format_amount('line_krw') }} || ' KRW line' as reason

    from flagged

)

select * from final
