with

source as (

    select * from {{ source('ingest', '_sources') }}

),

final as (

    select
        {{ clean_text('source') }} as source_name,
        coalesce(cast(is_required as boolean), false) as is_required,
        coalesce(cast(is_present as boolean), false) as is_present,
        coalesce(cast(row_count as bigint), 0) as row_count,
        cast(last_loaded_at as timestamp) as last_loaded_at

    from source

)

select * from final
