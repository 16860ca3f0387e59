{#-
    How rules overlap, for the dashboard's rules page: transactions hit by both rules of a pair, over every hit
    (suppressed, shadow and draft hits too). Ordered pairs, each rule paired with itself as well (its own hit
    transactions), so the page's heat map reads one row per cell; pairs that share nothing have no row.
-#}

with

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

hit_transactions as (

    select distinct
        rule_id,
        rule_set,
        transaction_id

    from rule_hits

),

final as (

    select
        {{ surrogate_key(['hit_transactions.rule_id', 'overlapping_hits.rule_id']) }} as rule_overlap_id,
        hit_transactions.rule_id,
        hit_transactions.rule_set,
        overlapping_hits.rule_id as overlapping_rule_id,
        overlapping_hits.rule_set as overlapping_rule_set,
        count(*) as shared_transaction_count

    from hit_transactions
    inner join hit_transactions as overlapping_hits
        on hit_transactions.transaction_id = overlapping_hits.transaction_id
    group by
        hit_transactions.rule_id,
        hit_transactions.rule_set,
        overlapping_hits.rule_id,
        overlapping_hits.rule_set
    order by hit_transactions.rule_id, overlapping_hits.rule_id

)

select * from final
