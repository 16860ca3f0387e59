{#-
    Fails when the catalog (dim_rules) and the rule models disagree: a rule model absent from the catalog,
    or a catalog row with no model. Operationally: a rule would run without being listed (no owner, no
    status, no scorecard) or the dashboard would show a rule that does not exist.
-#}

with

catalog as (

    select * from {{ ref('dim_rules') }}

),

rule_models as (
    {{ rule_model_name_rows() }}
),

final as (

    select
        coalesce(rule_models.model_name, catalog.model_name) as model_name,
        case
            when catalog.model_name is null then 'rule model missing from dim_rules'
            else 'dim_rules row without a rule model'
        end as problem

    from rule_models
    full outer join catalog
        on rule_models.model_name = catalog.model_name
    where rule_models.model_name is null or catalog.model_name is null

)

select * from final
