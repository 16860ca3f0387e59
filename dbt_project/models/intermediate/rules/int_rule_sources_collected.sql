{#- The landing sources each rule reads, from the rules' meta blocks (sources = needed, optional_sources). -#}

with

rule_sources as (
    {{ rule_source_rows() }}
),

final as (

    select * from rule_sources

)

select * from final
