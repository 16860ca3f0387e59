with

source as (

    select * from {{ source('hr', 'trips') }}

),

renamed as (

    select
        {{ clean_text('employee_id') }} as employee_id,
        cast(start_date as date) as trip_start_date,
        cast(end_date as date) as trip_end_date,
        {{ clean_text('destination_region') }} as destination_region,
        _loaded_at,
        _file,
        _line

    from source

),

keyed as (

    select
        {{ surrogate_key(['employee_id', 'trip_start_date', 'trip_end_date', 'destination_region']) }} as trip_id,
        *

    from renamed

),

deduplicated as (

    select
        *,
        {{ first_loaded_row_number(['trip_id']) }} as load_order

    from keyed

),

final as (

    select
        trip_id,
        employee_id,
        trip_start_date,
        trip_end_date,
        destination_region

    from deduplicated
    where load_order = 1

)

select * from final
