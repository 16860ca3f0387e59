{#- the case columns both sources share: the landed export and Cardwatch's own case store -#}
{%- set case_columns = [
    'transaction_id', 'alerted_by', 'opened_at', 'explanation_requested_at', 'explanation_received_at',
    'decided_at', 'decision', 'recovered_amount', '_loaded_at'
] -%}

with

landed as (

    select
        {{ case_columns | join(',\n        ') }},
        _file,
        _line
    from {{ source('casework', 'case_outcomes') }}

),

case_store as (

    -- cases worked in Cardwatch's own case store, copied back each run (the feedback loop)
    select
        {{ case_columns | join(',\n        ') }},
        'case_store' as _file,
        cast(null as bigint) as _line
    from {{ source('casework', 'case_store_outcomes') }}

),

source as (

    select * from landed
    union all
    select * from case_store

),

renamed as (

    select
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('alerted_by') }} as alerted_by,
        cast(opened_at as timestamp) as opened_at,
        cast(explanation_requested_at as timestamp) as explanation_requested_at,
        cast(explanation_received_at as timestamp) as explanation_received_at,
        cast(decided_at as timestamp) as decided_at,
        {{ clean_code('decision') }} as decision,
        cast(recovered_amount as decimal(18, 2)) as recovered_amount,
        _loaded_at,
        _file,
        _line

    from source

),

keyed as (

    select
        {{ surrogate_key(['transaction_id', 'alerted_by', 'opened_at']) }} as case_id,
        *

    from renamed

),

deduplicated as (

    select
        *,
        {{ first_loaded_row_number(['case_id']) }} as load_order

    from keyed

),

final as (

    select
        case_id,
        transaction_id,
        alerted_by,
        opened_at,
        explanation_requested_at,
        explanation_received_at,
        decided_at,
        decision,
        decision in ('confirmed', 'partial') as is_confirmed_misuse,
        decided_at is not null and decision is not null as is_decided,
        recovered_amount

    from deduplicated
    where load_order = 1

)

select * from final
