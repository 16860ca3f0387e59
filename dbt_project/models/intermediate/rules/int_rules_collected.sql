{#- The rule catalog's metadata, collected from every rule model's meta.rule block (macros/rule_catalog.sql). -#}

with

rule_metadata as (
    {{ rule_metadata_rows() }}
),

final as (

    select * from rule_metadata

)

select * from final
