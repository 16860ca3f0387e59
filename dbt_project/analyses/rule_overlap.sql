{#-
    Pairwise overlap of the rules' hit sets (DOMAIN.md 3.6): Jaccard similarity and each rule's hits that no
    other rule of its set catches. Compile with `dbt compile --select rule_overlap` and run the SQL in
    target/compiled (sorted by jaccard) to decide which rules add little.
-#}

with

rule_hits as (

    select * from {{ ref('fct_rule_hits') }}

),

hit_sets as (

    select distinct
        rule_set,
        rule_id,
        transaction_id

    from rule_hits

),

rule_sizes as (

    select
        rule_id,
        count(*) as hit_count

    from hit_sets
    group by rule_id

),

pairs as (

    select
        left_hits.rule_id as rule_a,
        right_hits.rule_id as rule_b,
        count(*) as shared_hits

    from hit_sets as left_hits
    inner join hit_sets as right_hits
        on
            left_hits.transaction_id = right_hits.transaction_id
            and left_hits.rule_set = right_hits.rule_set
            and left_hits.rule_id < right_hits.rule_id
    group by left_hits.rule_id, right_hits.rule_id

),

final as (

    select
        pairs.rule_a,
        pairs.rule_b,
        pairs.shared_hits,
        cast(pairs.shared_hits as double)
        / (size_a.hit_count + size_b.hit_count - pairs.shared_hits) as jaccard

    from pairs
    inner join rule_sizes as size_a
        on pairs.rule_a = size_a.rule_id
    inner join rule_sizes as size_b
        on pairs.rule_b = size_b.rule_id

)

select * from final
