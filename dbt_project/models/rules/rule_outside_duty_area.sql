with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

trips as (

    select * from {{ ref('stg_hr__trips') }}

),

category_groups as (

    select * from {{ ref('rule_category_groups') }}

),

excluded_groups as (

    select category_group

    from category_groups
    where rule_id = 'outside_duty_area_excluded'

),

away as (

    select transactions.*

    from transactions
    left join excluded_groups
        on transactions.category_group = excluded_groups.category_group
    where
        transactions.is_purchase
        and excluded_groups.category_group is null
        and transactions.merchant_region is not null
        and transactions.work_region is not null
        and transactions.merchant_region <> transactions.work_region

),

covered_by_trip as (

    select distinct away.transaction_id

    from away
    inner join trips
        on
            away.employee_id = trips.employee_id
            and away.transacted_date between trips.trip_start_date and trips.trip_end_date

),

flagged as (

    select away.*

    from away
    left join covered_by_trip
        on away.transaction_id = covered_by_trip.transaction_id
    where covered_by_trip.transaction_id is null

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' in ' || merchant_region || ' on ' || {{ format_minute('transacted_at') }}
        || '; outside the work region ' || work_region || ' and no approved trip covers the day' as reason

    from flagged

)

select * from final
