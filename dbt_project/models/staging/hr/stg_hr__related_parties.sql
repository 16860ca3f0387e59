with

source as (

    select * from {{ source('hr', 'related_parties') }}

),

renamed as (

    select
        {{ clean_text('employee_id') }} as employee_id,
        {{ digits_only('business_no') }} as business_no,
        _loaded_at,
        _file,
        _line

    from source

),

keyed as (

    select
        {{ surrogate_key(['employee_id', 'business_no']) }} as related_party_id,
        *

    from renamed

),

deduplicated as (

    select
        *,
        {{ first_loaded_row_number(['related_party_id']) }} as load_order

    from keyed

),

final as (

    select
        related_party_id,
        employee_id,
        business_no

    from deduplicated
    where load_order = 1 and business_no is not null

)

select * from final
