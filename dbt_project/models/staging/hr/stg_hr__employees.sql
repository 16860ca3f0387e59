with

source as (

    select * from {{ source('hr', 'employees') }}

),

renamed as (

    select
        {{ clean_text('employee_id') }} as employee_id,
        {{ clean_text('department') }} as department,
        {{ clean_text('grade') }} as grade,
        {{ clean_code('job_family') }} as job_family,
        {{ clean_text('work_region') }} as work_region,
        {{ clean_text('home_region') }} as home_region,
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,
        cast(card_limit as decimal(18, 2)) as card_limit_krw,
        {{ first_loaded_row_number(['employee_id']) }} as load_order

    from source

),

final as (

    select
        employee_id,
        department,
        grade,
        job_family,
        work_region,
        home_region,
        hire_date,
        termination_date,
        card_limit_krw

    from renamed
    where load_order = 1

)

select * from final
