{#-
    Split payment (쪼개기): consecutive payments at one merchant, each gap at most max_gap_minutes, by one
    holder or by several holders' cards, each part under the line and together reaching it. The rule is
    causal: it flags the part that completes the split (and any later part), using only earlier parts.
-#}

with

transactions as (

    select * from {{ ref('int_transactions_enriched') }}

),

rule_parameters as (

    select * from {{ ref('rule_parameters') }}

),

parameters as (

    {{ pivot_rule_parameters('rule_parameters', ['line_krw', 'max_gap_minutes']) }}

),

limits as (

    select
        cast(line_krw as decimal(18, 2)) as line_krw,
        cast(max_gap_minutes as integer) as max_gap_minutes

    from parameters

),

purchases as (

    select * from transactions
    where is_purchase

),

scoped as (

    select
        'holder' as split_scope,
        employee_id || '|' || merchant_key as split_group,
        *
    from purchases

    union all

    select
        'merchant' as split_scope,
        merchant_key as split_group,
        *
    from purchases

),

gaps as (

    select
        *,
        lag(transacted_at) over (
            partition by split_scope, split_group order by transacted_at, transaction_id
        ) as previous_part_at

    from scoped

),

session_starts as (

    select
        gaps.*,
        case
            when gaps.previous_part_at is null then 1
            when {{ dbt.datediff('gaps.previous_part_at', 'gaps.transacted_at', 'second') }}
                > limits.max_gap_minutes * 60 then 1
            else 0
        end as is_session_start

    from gaps
    cross join limits

),

sessions as (

    select
        *,
        sum(is_session_start) over (
            partition by split_scope, split_group
            order by transacted_at, transaction_id
            rows between unbounded preceding and current row
        ) as session_number

    from session_starts

),

multi_part_sessions as (

    {#- a session of one payment is never a split: keep the running windows below to the few others -#}
    select
        split_scope,
        split_group,
        session_number

    from sessions
    group by split_scope, split_group, session_number
    having count(*) >= 2

),

running as (

    select
        sessions.*,
        count(*) over session_so_far as parts_so_far,
        sum(sessions.amount) over session_so_far as total_so_far,
        max(sessions.amount) over session_so_far as largest_part,
        min(sessions.transacted_at) over session_so_far as first_part_at,
        min(sessions.card_id) over session_so_far as first_card_id,
        max(sessions.card_id) over session_so_far as last_card_id

    from sessions
    inner join multi_part_sessions
        on
            sessions.split_scope = multi_part_sessions.split_scope
            and sessions.split_group = multi_part_sessions.split_group
            and sessions.session_number = multi_part_sessions.session_number
    window session_so_far as (
        partition by sessions.split_scope, sessions.split_group, sessions.session_number
        order by sessions.transacted_at, sessions.transaction_id
        rows between unbounded preceding and current row
    )

),

splits as (

    select
        running.*,
        limits.line_krw,
        {{ dbt.datediff(
            'running.first_part_at', 'running.transacted_at', 'minute'
        ) }} as minutes_spanned,
        row_number() over (
            partition by running.transaction_id order by running.split_scope
        ) as scope_order

    from running
    cross join limits
    where
        running.parts_so_far >= 2
        and running.largest_part < limits.line_krw
        and running.total_so_far >= limits.line_krw
        and (running.split_scope = 'holder' or running.first_card_id <> running.last_card_id)

),

final as (

    select
        transaction_id,
        {{ rule_id() }} as rule_id,
        {{ rule_severity() }} as severity,
        cast(parts_so_far as {{ dbt.type_string() }}) || ' payments at ' || {{ merchant_label() }}
        || case when split_scope = 'merchant' then ' on different cards' else '' end
        || ' within ' || cast(minutes_spanned as {{ dbt.type_string() }})
        || ' minutes totalling ' || {{ format_amount('total_so_far') }}
        || ' ' || currency
        || '; each under the ' || {{ format_amount('line_krw') }} || ' KRW line' as reason

    from splits
    where scope_order = 1

)

select * from final
