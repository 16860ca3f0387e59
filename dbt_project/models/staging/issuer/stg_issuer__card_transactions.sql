with

source as (

    select * from {{ source('issuer', 'card_transactions') }}

),

renamed as (

    select
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('card_id') }} as card_id,
        coalesce({{ clean_text('employee_id') }}, {{ clean_text('card_id') }}) as employee_id,
        {{ clean_text('employee_id') }} is null as is_employee_id_from_card,
        cast(transacted_at as timestamp) as transacted_at,
        cast(transacted_at as date) as transacted_date,
        cast(amount as decimal(18, 2)) as amount,
        coalesce(upper({{ clean_text('currency') }}), 'KRW') as currency,
        {{ clean_text('merchant_id') }} as merchant_id,
        {{ clean_text('merchant_name') }} as merchant_name,
        {{ clean_text('mcc') }} as mcc,
        {{ clean_text('merchant_category') }} as merchant_category,
        {{ clean_text('merchant_region') }} as merchant_region,
        {{ digits_only('merchant_business_no') }} as merchant_business_no,
        coalesce({{ clean_code('status') }}, 'approved') as transaction_status,
        _loaded_at as loaded_at,
        {{ first_loaded_row_number(['transaction_id']) }} as load_order

    from source

),

final as (

    select
        transaction_id,
        card_id,
        employee_id,
        is_employee_id_from_card,
        transacted_at,
        transacted_date,
        amount,
        currency,
        merchant_id,
        merchant_name,
        mcc,
        merchant_category,
        merchant_region,
        merchant_business_no,
        transaction_status,
        amount > 0 and transaction_status = 'approved' as is_purchase,
        loaded_at

    from renamed
    where load_order = 1

)

select * from final
