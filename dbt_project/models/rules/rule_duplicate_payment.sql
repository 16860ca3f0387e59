{#-
    Duplicate (중복 결제·청구): the same card, merchant and amount within max_gap_minutes of the previous
    payment, or one transaction claimed twice.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['max_gap_minutes']) }}

),

limits as (

    select cast(max_gap_minutes as integer) as max_gap_minutes
    from parameters

),

previous_same as (

    {{ previous_same_payment('transactions') }}

),

flagged as (

    select
        previous_same.*,
        limits.max_gap_minutes,
        previous_same.previous_same_at is not null
        and {{ dbt.datediff('previous_same.previous_same_at', 'previous_same.transacted_at', 'second') }}
        <= limits.max_gap_minutes * 60 as is_duplicate_payment

    from previous_same
    cross join limits

),

described as (

    select
        *,
        {{ format_amount('amount') }} || ' ' || currency || ' at '
        || {{ merchant_label() }} as payment_label,
        {{ dbt.datediff(
            'previous_same_at', 'transacted_at', 'second'
        ) }} as seconds_since_previous

    from flagged
    where is_duplicate_payment or claim_count > 1

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        case
            when is_duplicate_payment
                then
                    payment_label || ' on ' || {{ format_minute('transacted_at') }} || ' repeats transaction '
                    || previous_same_transaction_id || ' on the same card '
                    || cast(seconds_since_previous as {{ dbt.type_string() }})
                    || ' seconds earlier (within ' || cast(max_gap_minutes as {{ dbt.type_string() }}) || ' minutes)'
            else payment_label || ' is claimed ' || cast(claim_count as {{ dbt.type_string() }}) || ' times'
        end as reason

    from described

)

select * from final
