with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

related_parties as (

    select * from {{ ref('stg_hr__related_parties') }}

),

flagged as (

    select distinct transactions.*

    from transactions
    inner join related_parties
        on
            transactions.employee_id = related_parties.employee_id
            and transactions.merchant_business_no = related_parties.business_no
    where transactions.is_purchase

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }} || '; the merchant''s business number '
        || merchant_business_no || ' is registered as a business related to the holder' as reason

    from flagged

)

select * from final
