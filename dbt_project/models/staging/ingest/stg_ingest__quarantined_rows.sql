with

source as (

    select * from {{ source('ingest', '_quarantine') }}

),

final as (

    select
        {{ clean_text('load_id') }} as load_id,
        {{ clean_text('source') }} as source_name,
        {{ clean_text('file') }} as file_name,
        {{ clean_text('file_sha256') }} as file_sha256,
        line as file_line,
        {{ clean_code('kind') }} as quarantine_kind,
        reason as quarantine_reason,
        raw_row,
        quarantined_at

    from source

)

select * from final
