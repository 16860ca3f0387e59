{#- Review outcomes rolled up per transaction: was it decided, and was misuse confirmed. -#}

with

case_outcomes as (

    select * from {{ ref('stg_casework__case_outcomes') }}

),

final as (

    select
        transaction_id,
        count(*) as case_count,
        max(case when is_decided then 1 else 0 end) = 1 as is_reviewed,
        max(case when is_decided and is_confirmed_misuse then 1 else 0 end) = 1 as is_confirmed_misuse,
        min(case when is_decided then decided_at end) as first_decided_at,
        sum(coalesce(recovered_amount, 0)) as recovered_amount

    from case_outcomes
    group by transaction_id

)

select * from final
