{#-
    Catalog integrity. Fails (one row per problem) when a model in models/rules/ has no meta.rule block, misses a
    catalog field, uses an unknown status / rule set / severity / source, or its id differs from its file name.
    Operationally: the rule would be missing from dim_rules or fct_rule_hits, or reported with the wrong name,
    status or source dependency - the catalog would lie to analysts and reviewers.
    (The checks are in macros/rule_catalog.sql: rule_metadata_problem_rows.)
-#}

-- reported as a check of the rule catalog, after it is built
-- depends_on: {{ ref('dim_rules') }}

with

problems as (
    {{ rule_metadata_problem_rows() }}
),

final as (

    select * from problems

)

select * from final
