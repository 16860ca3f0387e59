{#-
    Large single payment (고액 건): at or over the line, and the claim does not name the counterpart.
    Entertainment-type spending (category in this rule's list, or a client_entertainment claim) has the
    lower line.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

category_groups as (

    select * from {{ ref('rule_category_groups') }}

),

parameters as (

    {{ pivot_rule_parameters(
        'rule_parameters', ['entertainment_line_krw', 'other_line_krw', 'min_counterpart_chars']
    ) }}

),

limits as (

    select
        cast(entertainment_line_krw as decimal(18, 2)) as entertainment_line_krw,
        cast(other_line_krw as decimal(18, 2)) as other_line_krw,
        cast(min_counterpart_chars as integer) as min_counterpart_chars

    from parameters

),

entertainment_groups as (

    select category_group

    from category_groups
    where rule_id = {{ rule_id() }}

),

with_line as (

    select
        transactions.*,
        limits.min_counterpart_chars,
        case
            when
                entertainment_groups.category_group is not null
                or transactions.purpose_category = 'client_entertainment'
                then limits.entertainment_line_krw
            else limits.other_line_krw
        end as line_krw,
        entertainment_groups.category_group is not null
        or transactions.purpose_category = 'client_entertainment' as is_entertainment

    from transactions
    cross join limits
    left join entertainment_groups
        on transactions.category_group = entertainment_groups.category_group
    where transactions.is_purchase

),

flagged as (

    select *

    from with_line
    where
        amount >= line_krw
        and coalesce({{ dbt.length('purpose_text') }}, 0) < min_counterpart_chars

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        {{ format_amount('amount') }} || ' ' || currency || ' at ' || {{ merchant_label() }}
        || ' on ' || {{ format_minute('transacted_at') }}
        || '; at or over the ' || {{ format_amount('line_krw') }} || ' KRW '
        || case when is_entertainment then 'entertainment' else 'single-payment' end
        || ' line and the claim does not name the counterpart' as reason

    from flagged

)

select * from final
