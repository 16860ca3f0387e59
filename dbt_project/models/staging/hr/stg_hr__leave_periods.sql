with

source as (

    select * from {{ source('hr', 'leave') }}

),

renamed as (

    select
        {{ clean_text('employee_id') }} as employee_id,
        cast(start_date as date) as leave_start_date,
        cast(end_date as date) as leave_end_date,
        coalesce({{ clean_code('leave_type') }}, 'unspecified') as leave_type,
        _loaded_at,
        _file,
        _line

    from source

),

keyed as (

    select
        {{ surrogate_key(['employee_id', 'leave_start_date', 'leave_end_date', 'leave_type']) }} as leave_id,
        *

    from renamed

),

deduplicated as (

    select
        *,
        {{ first_loaded_row_number(['leave_id']) }} as load_order

    from keyed

),

final as (

    select
        leave_id,
        employee_id,
        leave_start_date,
        leave_end_date,
        leave_type

    from deduplicated
    where load_order = 1

)

select * from final
