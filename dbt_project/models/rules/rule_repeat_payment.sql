{#-
    Repeat payment (중복 결제·청구, DOMAIN.md row 20, the "same vendor, same amount, different date" test):
    the same card, merchant and amount again later than duplicate_payment's max_gap_minutes and within
    max_gap_hours of the previous payment. Closer repeats are duplicate_payment's, so the two never flag
    the same gap.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

own_parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['max_gap_hours']) }}

),

duplicate_parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['max_gap_minutes'], for_rule_id='duplicate_payment') }}

),

limits as (

    select
        cast(duplicate_parameters.max_gap_minutes as integer) * 60 as min_gap_seconds,
        cast(own_parameters.max_gap_hours as integer) as max_gap_hours

    from own_parameters
    cross join duplicate_parameters

),

previous_same as (

    {{ previous_same_payment('transactions') }}

),

gaps as (

    select
        previous_same.*,
        {{ dbt.datediff(
            'previous_same.previous_same_at', 'previous_same.transacted_at', 'second'
        ) }} as seconds_since_previous

    from previous_same
    where previous_same.previous_same_at is not null

),

flagged as (

    select
        gaps.*,
        limits.max_gap_hours

    from gaps
    cross join limits
    where
        gaps.seconds_since_previous > limits.min_gap_seconds
        and gaps.seconds_since_previous <= limits.max_gap_hours * 3600

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || ' repeats transaction ' || previous_same_transaction_id
        || ' on the same card '
        || cast(round(seconds_since_previous / 3600.0, 1) as {{ dbt.type_string() }})
        || ' hours earlier (within ' || cast(max_gap_hours as {{ dbt.type_string() }}) || ' hours)' as reason

    from flagged

)

select * from final
