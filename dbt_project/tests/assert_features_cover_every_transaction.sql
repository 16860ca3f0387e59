{#-
    Fails when the features mart and the staged transactions differ in rows. Operationally: the models would
    score fewer transactions than were loaded (misuse never scored) or duplicates (double alerts).
-#}

-- the Dagster asset check this test reports as (it reads several models)
{{ config(meta={"dagster": {"ref": {"name": "fct_transaction_features"}}}) }}

with

transactions as (

    select * from {{ ref('stg_issuer__card_transactions') }}

),

features as (

    select * from {{ ref('fct_transaction_features') }}

),

final as (

    select
        coalesce(transactions.transaction_id, features.transaction_id) as transaction_id,
        case when features.transaction_id is null then 'no features' else 'features without a transaction' end
            as problem

    from transactions
    full outer join features
        on transactions.transaction_id = features.transaction_id
    where transactions.transaction_id is null or features.transaction_id is null

)

select * from final
