{#- Whether each rule can run on the data loaded: inactive when a source it needs is absent. -#}

with

rules as (

    select * from {{ ref('int_rules_collected') }}

),

rule_sources as (

    select * from {{ ref('int_rule_sources_collected') }}

),

landing_sources as (

    select * from {{ ref('stg_ingest__sources') }}

),

source_presence as (

    select
        rule_sources.rule_id,
        rule_sources.source_name,
        rule_sources.is_needed,
        coalesce(landing_sources.is_present, false) as is_present

    from rule_sources
    left join landing_sources
        on rule_sources.source_name = landing_sources.source_name

),

missing as (

    select
        rule_id,
        count(*) as missing_source_count,
        {{ dbt.listagg('source_name', "','", "order by source_name") }} as missing_sources

    from source_presence
    where
        is_needed
        and not is_present
    group by rule_id

),

final as (

    select
        rules.*,
        coalesce(missing.missing_source_count, 0) = 0 as is_active,
        missing.missing_sources,
        coalesce(missing.missing_source_count, 0) = 0 and rules.rule_status = 'active' as is_alerting

    from rules
    left join missing
        on rules.rule_id = missing.rule_id

)

select * from final
