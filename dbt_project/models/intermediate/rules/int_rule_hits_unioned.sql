{#-
    The union of every rule model's hits, generated from the rule models' meta blocks
    (macros/rule_catalog.sql: union_rule_hits). dbt orders models only by the refs it sees while parsing,
    before the graph exists, so each rule model is declared below once; when one is missing the build stops
    with the exact line to add.
-#}
-- depends_on: {{ ref('rule_after_termination') }}
-- depends_on: {{ ref('rule_bar_without_official_event') }}
-- depends_on: {{ ref('rule_cash_equivalent') }}
-- depends_on: {{ ref('rule_dormant_card') }}
-- depends_on: {{ ref('rule_duplicate_payment') }}
-- depends_on: {{ ref('rule_extended_block_list') }}
-- depends_on: {{ ref('rule_large_single_payment') }}
-- depends_on: {{ ref('rule_late_night') }}
-- depends_on: {{ ref('rule_legacy_amount_over_line') }}
-- depends_on: {{ ref('rule_legacy_night') }}
-- depends_on: {{ ref('rule_legacy_restricted_category') }}
-- depends_on: {{ ref('rule_legacy_same_day_split') }}
-- depends_on: {{ ref('rule_legacy_weekend_holiday') }}
-- depends_on: {{ ref('rule_limit_hugging') }}
-- depends_on: {{ ref('rule_near_home') }}
-- depends_on: {{ ref('rule_on_leave') }}
-- depends_on: {{ ref('rule_outside_duty_area') }}
-- depends_on: {{ ref('rule_peer_outlier') }}
-- depends_on: {{ ref('rule_per_person_cap') }}
-- depends_on: {{ ref('rule_personal_use_merchant') }}
-- depends_on: {{ ref('rule_related_party_merchant') }}
-- depends_on: {{ ref('rule_repeat_payment') }}
-- depends_on: {{ ref('rule_repeated_merchant') }}
-- depends_on: {{ ref('rule_restaurant_off_hours') }}
-- depends_on: {{ ref('rule_restricted_merchant') }}
-- depends_on: {{ ref('rule_round_amount') }}
-- depends_on: {{ ref('rule_split_across_days') }}
-- depends_on: {{ ref('rule_split_payment') }}
-- depends_on: {{ ref('rule_weekend_holiday') }}

with

rule_hits as (
    {{ union_rule_hits() }}
),

final as (

    select * from rule_hits

)

select * from final
