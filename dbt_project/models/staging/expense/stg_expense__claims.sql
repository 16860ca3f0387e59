{#-
    var claims_submitted_before (a timestamp; empty by default): keep only the claims submitted before it, as the
    warehouse stood then. The backtest builds its training warehouse so (claims filed after the cut-off are
    not known at the cut-off); a claim without submitted_at is kept.
-#}

{%- set submitted_before = var('claims_submitted_before') %}

with

source as (

    select * from {{ source('expense', 'expense_claims') }}

),

renamed as (

    select
        {{ clean_text('claim_id') }} as claim_id,
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('employee_id') }} as employee_id,
        cast(submitted_at as timestamp) as submitted_at,
        {{ clean_code('purpose_category') }} as purpose_category,
        {{ clean_text('purpose_text') }} as purpose_text,
        cast(attendee_count as integer) as attendee_count,
        coalesce(cast(is_official_event as boolean), false) as is_official_event,
        {{ first_loaded_row_number(['claim_id']) }} as load_order

    from source

),

final as (

    select
        claim_id,
        transaction_id,
        employee_id,
        submitted_at,
        purpose_category,
        purpose_text,
        attendee_count,
        is_official_event

    from renamed
    where
        load_order = 1
        and (
            cast({{ sql_text(submitted_before) }} as timestamp) is null
            or submitted_at is null
            or submitted_at < cast({{ sql_text(submitted_before) }} as timestamp)
        )

)

select * from final
