{#- The hits that may raise an alert: active-status rules whose sources are loaded, not suppressed. -#}

with

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

final as (

    select
        rule_hit_id,
        transaction_id,
        rule_id,
        rule_set,
        severity,
        reason,
        employee_id,
        card_id,
        merchant_key,
        merchant_name,
        transacted_at,
        transacted_date,
        amount

    from rule_hits
    where is_alert_candidate

)

select * from final
