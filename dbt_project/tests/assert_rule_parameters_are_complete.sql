{#-
    Fails when a rule reads a parameter the seed rule_parameters does not define (or defines twice for the
    same date). Operationally: the rule would compare against null and silently flag nothing.
-#}

with

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

expected as (

    select
        expected_parameters.rule_id,
        expected_parameters.parameter

    from (
        values
        ('late_night', 'window_start'),
        ('late_night', 'window_end'),
        ('restaurant_off_hours', 'window_1_start'),
        ('restaurant_off_hours', 'window_1_end'),
        ('restaurant_off_hours', 'window_2_start'),
        ('restaurant_off_hours', 'window_2_end'),
        ('split_payment', 'line_krw'),
        ('split_payment', 'max_gap_minutes'),
        ('split_across_days', 'limit_krw'),
        ('split_across_days', 'window_days'),
        ('large_single_payment', 'entertainment_line_krw'),
        ('large_single_payment', 'other_line_krw'),
        ('large_single_payment', 'min_counterpart_chars'),
        ('per_person_cap', 'meal_cap_krw'),
        ('near_home', 'work_start'),
        ('near_home', 'work_end'),
        ('dormant_card', 'idle_days'),
        ('repeated_merchant', 'max_visits'),
        ('repeated_merchant', 'window_days'),
        ('limit_hugging', 'line_krw'),
        ('limit_hugging', 'band_low_pct'),
        ('limit_hugging', 'min_repeats'),
        ('limit_hugging', 'window_days'),
        ('round_amount', 'round_unit_krw'),
        ('round_amount', 'min_amount_krw'),
        ('duplicate_payment', 'max_gap_minutes'),
        ('repeat_payment', 'max_gap_hours'),
        ('peer_outlier', 'z_threshold'),
        ('peer_outlier', 'history_months'),
        ('peer_outlier', 'min_peer_months'),
        ('legacy_night', 'window_start'),
        ('legacy_night', 'window_end'),
        ('legacy_amount_over_line', 'line_krw'),
        ('legacy_same_day_split', 'line_krw')
    ) as expected_parameters (rule_id, parameter)

),

counted as (

    select
        expected.rule_id,
        expected.parameter,
        count(rule_parameters.value) as value_count,
        count(distinct coalesce(rule_parameters.valid_from, cast('1900-01-01' as date))) as period_count

    from expected
    left join rule_parameters
        on
            expected.rule_id = rule_parameters.rule_id
            and expected.parameter = rule_parameters.parameter
    group by expected.rule_id, expected.parameter

),

final as (

    select * from counted
    where value_count = 0 or value_count <> period_count

)

select * from final
