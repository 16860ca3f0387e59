{#-
    Fails when a hit of a rule that must stay quiet reaches the alert candidates: a rule whose landing
    sources are absent (inactive), a shadow, draft or retired rule, or a suppressed hit. Operationally:
    reviewers would receive alerts that policy says must only be measured.
-#}

-- the Dagster asset check this test reports as (it reads several models)
{{ config(meta={"dagster": {"ref": {"name": "fct_alert_candidates"}}}) }}

with

alert_candidates as (

    select * from {{ ref('fct_alert_candidates') }}

),

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

rules as (

    select * from {{ ref('dim_rules') }}

),

final as (

    select
        alert_candidates.rule_hit_id,
        alert_candidates.rule_id,
        rules.rule_status,
        rules.is_active,
        rule_hits.is_suppressed

    from alert_candidates
    inner join rules
        on alert_candidates.rule_id = rules.rule_id
    inner join rule_hits
        on alert_candidates.rule_hit_id = rule_hits.rule_hit_id
    where
        rules.rule_status <> 'active'
        or not rules.is_active
        or rule_hits.is_suppressed

)

select * from final
