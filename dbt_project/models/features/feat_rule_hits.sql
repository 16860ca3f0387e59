{#- The rules as features: how many Cardwatch and legacy rules hit the transaction, the highest severity, which. -#}

with

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

final as (

    select
        transaction_id,
        sum(case when rule_set = 'cardwatch' then 1 else 0 end) as rule_hit_count,
        sum(case when rule_set = 'legacy' then 1 else 0 end) as legacy_rule_hit_count,
        max(case when rule_set = 'cardwatch' then severity end) as rule_max_severity,
        {{ dbt.listagg(
            "case when rule_set = 'cardwatch' then rule_id end", "','", "order by rule_id"
        ) }} as rule_ids_hit

    from rule_hits
    group by transaction_id

)

select * from final
