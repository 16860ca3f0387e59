{#-
    Per-person cap (1인당 한도): meal spending / the claim's attendee count over the cap in force on the
    transaction date (rule_parameters has one row per period: valid_from).
-#}

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

cap_values as (

    select
        cast(value as decimal(18, 2)) as cap_krw,
        coalesce(valid_from, cast('1900-01-01' as date)) as valid_from

    from rule_parameters
    where
        rule_id = {{ rule_id() }}
        and parameter = 'meal_cap_krw'

),

cap_periods as (

    select
        cap_krw,
        valid_from,
        lead(valid_from) over (order by valid_from) as valid_until

    from cap_values

),

meal_groups as (

    select category_group

    from category_groups
    where rule_id = {{ rule_id() }}

),

meals as (

    select
        transactions.*,
        transactions.amount / transactions.attendee_count as amount_per_attendee

    from transactions
    inner join meal_groups
        on transactions.category_group = meal_groups.category_group
    where
        transactions.is_purchase
        and transactions.attendee_count > 0

),

flagged as (

    select
        meals.*,
        cap_periods.cap_krw,
        cap_periods.valid_from

    from meals
    inner join cap_periods
        on
            meals.transacted_date >= cap_periods.valid_from
            and (cap_periods.valid_until is null or meals.transacted_date < cap_periods.valid_until)
    where meals.amount_per_attendee > cap_periods.cap_krw

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || cast(transacted_date as {{ dbt.type_string() }}) || ' for '
        || cast(attendee_count as {{ dbt.type_string() }}) || ' attendees is '
        || {{ format_amount('amount_per_attendee') }} || ' per person; over the '
        || {{ format_amount('cap_krw') }} || ' KRW cap in force from '
        || cast(valid_from as {{ dbt.type_string() }}) as reason

    from flagged

)

select * from final
