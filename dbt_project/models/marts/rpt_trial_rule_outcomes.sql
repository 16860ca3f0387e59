{#-
    Draft and shadow rules on history, for the dashboard's rules page: their hits, how many were reviewed and
    confirmed, and how many no alerting rule raises (what switching the rule on would add). Every draft and
    shadow rule of the catalog has a row, with zeros when it never hit.
-#}

with

rules as (

    select * from {{ ref('dim_rules') }}

),

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

case_outcomes as (

    select * from {{ ref('stg_casework__case_outcomes') }}

),

trial_statuses as (

    -- the statuses of a rule on trial: written, or running without alerting
    select statuses.rule_status
    from (values ('draft'), ('shadow')) as statuses (rule_status)

),

trial_hits as (

    select
        rule_id,
        transaction_id,
        any_value(transacted_date) as transacted_date,
        any_value(abs(amount)) as amount

    from rule_hits
    where rule_status in (select trial_statuses.rule_status from trial_statuses)
    group by rule_id, transaction_id

),

alerted_transactions as (

    select distinct transaction_id

    from rule_hits
    where is_alert_candidate

),

transaction_outcomes as (

    select
        transaction_id,
        bool_or(is_decided) as is_reviewed,
        bool_or(is_decided and is_confirmed_misuse) as is_confirmed

    from case_outcomes
    group by transaction_id

),

trial_outcomes as (

    select
        trial_hits.rule_id,
        count(*) as hit_count,
        count(*) / greatest(count(distinct trial_hits.transacted_date), 1) as hits_per_day,
        sum(trial_hits.amount) as hit_amount,
        count(*) filter (where transaction_outcomes.is_reviewed) as reviewed_count,
        count(*) filter (where transaction_outcomes.is_confirmed) as confirmed_count,
        count(*) filter (where alerted_transactions.transaction_id is null) as new_transaction_count,
        count(*) filter (
            where transaction_outcomes.is_confirmed and alerted_transactions.transaction_id is null
        ) as new_confirmed_count

    from trial_hits
    left join alerted_transactions
        on trial_hits.transaction_id = alerted_transactions.transaction_id
    left join transaction_outcomes
        on trial_hits.transaction_id = transaction_outcomes.transaction_id
    group by trial_hits.rule_id

),

final as (

    select
        rules.rule_id,
        rules.name_en,
        rules.name_ko,
        rules.rule_status,
        coalesce(trial_outcomes.hit_count, 0) as hit_count,
        coalesce(trial_outcomes.hits_per_day, 0) as hits_per_day,
        coalesce(trial_outcomes.hit_amount, 0) as hit_amount,
        coalesce(trial_outcomes.reviewed_count, 0) as reviewed_count,
        coalesce(trial_outcomes.confirmed_count, 0) as confirmed_count,
        coalesce(trial_outcomes.new_transaction_count, 0) as new_transaction_count,
        coalesce(trial_outcomes.new_confirmed_count, 0) as new_confirmed_count

    from rules
    left join trial_outcomes
        on rules.rule_id = trial_outcomes.rule_id
    where rules.rule_status in (select trial_statuses.rule_status from trial_statuses)
    order by rules.rule_id

)

select * from final
