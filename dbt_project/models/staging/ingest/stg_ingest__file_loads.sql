with

source as (

    select * from {{ source('ingest', '_load_log') }}

),

final as (

    select
        {{ clean_text('load_id') }} as load_id,
        {{ clean_text('source') }} as source_name,
        {{ clean_text('file') }} as file_name,
        {{ clean_text('file_sha256') }} as file_sha256,
        {{ clean_code('status') }} as load_status,
        rows_read,
        rows_accepted,
        rows_quarantined,
        rows_set_aside,
        message as load_message,
        started_at,
        finished_at

    from source

)

select * from final
