{#-
    The dashboard overview's alerts and their review outcomes by the rules that hit the alerted transaction,
    summed per day, department and rule: the overview's rule filter. Same alert sources and measures as
    rpt_alert_outcomes_daily (Cardwatch's own alerts are summed in monitoring.rule_alert_outcomes_daily); an
    alerted transaction hit by three rules counts once under each of them, so rows do not add up across rules.
-#}

with

legacy_alerts as (

    select * from {{ ref('stg_casework__legacy_alerts') }}

),

alert_candidates as (

    select * from {{ ref('fct_alert_candidates') }}

),

transactions as (

    select * from {{ ref('stg_issuer__card_transactions') }}

),

employees as (

    select * from {{ ref('stg_hr__employees') }}

),

case_outcomes as (

    select * from {{ ref('stg_casework__case_outcomes') }}

),

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

alerted_transactions as (

    select
        'legacy' as alert_source,
        transaction_id,
        min(cast(alerted_at as date)) as alert_date

    from legacy_alerts
    group by transaction_id

    union all

    select
        'rule_candidates' as alert_source,
        transaction_id,
        min(transacted_date) as alert_date

    from alert_candidates
    group by transaction_id

),

transaction_outcomes as (

    select
        transaction_id,
        bool_or(is_decided) as is_reviewed,
        bool_or(is_decided and is_confirmed_misuse) as is_confirmed,
        max(coalesce(recovered_amount, 0)) as recovered_amount

    from case_outcomes
    group by transaction_id

),

hit_rules as (

    select distinct
        transaction_id,
        rule_id

    from rule_hits

),

alert_outcomes as (

    select
        alerted_transactions.alert_source,
        alerted_transactions.alert_date,
        employees.department,
        hit_rules.rule_id,
        coalesce(transaction_outcomes.is_reviewed, false) as is_reviewed,
        coalesce(transaction_outcomes.is_confirmed, false) as is_confirmed,
        case
            when transaction_outcomes.is_confirmed then abs(coalesce(transactions.amount, 0)) else 0
        end as confirmed_amount,
        case
            when transaction_outcomes.is_confirmed then coalesce(transaction_outcomes.recovered_amount, 0) else 0
        end as recovered_amount

    from alerted_transactions
    inner join hit_rules
        on alerted_transactions.transaction_id = hit_rules.transaction_id
    left join transactions
        on alerted_transactions.transaction_id = transactions.transaction_id
    left join employees
        on transactions.employee_id = employees.employee_id
    left join transaction_outcomes
        on alerted_transactions.transaction_id = transaction_outcomes.transaction_id

),

final as (

    select
        {{ surrogate_key(['alert_source', 'alert_date', 'department', 'rule_id']) }} as rule_alert_outcome_day_id,
        alert_source,
        alert_date,
        department,
        rule_id,
        count(*) as alert_count,
        count(*) filter (where is_reviewed) as reviewed_count,
        count(*) filter (where is_confirmed) as confirmed_count,
        sum(confirmed_amount) as confirmed_amount,
        sum(recovered_amount) as recovered_amount

    from alert_outcomes
    group by alert_source, alert_date, department, rule_id
    order by alert_source, rule_id, alert_date, department

)

select * from final
