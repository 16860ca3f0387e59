{#-
    The rule catalog: every rule's metadata, whether it can run on the data loaded, and its hits and
    confirmed outcomes so far (precision against ground truth is computed outside, where truth exists).
-#}

with

rules as (

    select * from {{ ref('int_rules_activated') }}

),

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

reviewed as (

    select * from {{ ref('int_transactions_reviewed') }}

),

hit_outcomes as (

    select
        rule_hits.rule_id,
        count(*) as hit_count,
        sum(case when rule_hits.is_suppressed then 1 else 0 end) as suppressed_hit_count,
        sum(case when rule_hits.is_alert_candidate then 1 else 0 end) as alert_candidate_count,
        sum(rule_hits.amount) as hit_amount,
        min(rule_hits.transacted_at) as first_hit_at,
        max(rule_hits.transacted_at) as last_hit_at,
        sum(case when reviewed.is_reviewed then 1 else 0 end) as reviewed_hit_count,
        sum(case when reviewed.is_confirmed_misuse then 1 else 0 end) as confirmed_hit_count,
        sum(case when reviewed.is_confirmed_misuse then rule_hits.amount else 0 end) as confirmed_amount,
        sum(coalesce(reviewed.recovered_amount, 0)) as recovered_amount

    from rule_hits
    left join reviewed
        on rule_hits.transaction_id = reviewed.transaction_id
    group by rule_hits.rule_id

),

final as (

    select
        rules.rule_id,
        rules.model_name,
        rules.rule_set,
        rules.rule_number,
        rules.name_en,
        rules.name_ko,
        rules.typology,
        rules.rule_description,
        rules.severity,
        rules.owner,
        rules.rule_status,
        rules.rule_version,
        rules.sources_needed,
        rules.optional_sources,
        rules.missing_sources,
        rules.is_active,
        rules.is_alerting,
        rules.model_path,
        coalesce(hit_outcomes.hit_count, 0) as hit_count,
        coalesce(hit_outcomes.suppressed_hit_count, 0) as suppressed_hit_count,
        coalesce(hit_outcomes.alert_candidate_count, 0) as alert_candidate_count,
        coalesce(hit_outcomes.hit_amount, 0) as hit_amount,
        hit_outcomes.first_hit_at,
        hit_outcomes.last_hit_at,
        coalesce(hit_outcomes.reviewed_hit_count, 0) as reviewed_hit_count,
        coalesce(hit_outcomes.confirmed_hit_count, 0) as confirmed_hit_count,
        coalesce(hit_outcomes.confirmed_amount, 0) as confirmed_amount,
        coalesce(hit_outcomes.recovered_amount, 0) as recovered_amount,
        cast(hit_outcomes.confirmed_hit_count as double)
        / nullif(hit_outcomes.reviewed_hit_count, 0) as confirmed_share_of_reviewed

    from rules
    left join hit_outcomes
        on rules.rule_id = hit_outcomes.rule_id

)

select * from final
