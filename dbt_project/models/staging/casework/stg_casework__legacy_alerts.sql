with

source as (

    select * from {{ source('casework', 'legacy_alerts') }}

),

renamed as (

    select
        {{ clean_text('alert_id') }} as alert_id,
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('alerted_by') }} as alerted_by,
        cast(alerted_at as timestamp) as alerted_at,
        cast(score as double) as legacy_score,
        {{ first_loaded_row_number(['alert_id']) }} as load_order

    from source

),

final as (

    select
        alert_id,
        transaction_id,
        alerted_by,
        case
            when alerted_by like 'legacy_rule%' then 'rule'
            when alerted_by like 'legacy_tree%' then 'tree'
            else 'other'
        end as legacy_filter,
        alerted_at,
        legacy_score

    from renamed
    where load_order = 1

)

select * from final
