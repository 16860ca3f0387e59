with

source as (

    select * from {{ source('issuer', 'merchants') }}

),

renamed as (

    select
        {{ clean_text('merchant_id') }} as merchant_id,
        {{ clean_text('merchant_name') }} as merchant_name,
        {{ clean_text('mcc') }} as mcc,
        {{ clean_text('merchant_category') }} as merchant_category,
        {{ clean_text('region') }} as merchant_region,
        {{ digits_only('business_no') }} as merchant_business_no,
        {{ first_loaded_row_number(['merchant_id']) }} as load_order

    from source

),

final as (

    select
        merchant_id,
        merchant_name,
        mcc,
        merchant_category,
        merchant_region,
        merchant_business_no

    from renamed
    where load_order = 1

)

select * from final
