{#-
    The one wide transaction table the rules and features start from: the transaction, its merchant's
    clean-card group, the cardholder's HR attributes, the claim, and the calendar.
-#}

with

transactions as (

    select * from {{ ref('stg_issuer__card_transactions') }}

),

merchants as (

    select * from {{ ref('stg_issuer__merchants') }}

),

category_map as (

    select * from {{ ref('merchant_category_map') }}

),

employees as (

    select * from {{ ref('stg_hr__employees') }}

),

claims as (

    select * from {{ ref('stg_expense__claims') }}

),

calendar_days as (

    select * from {{ ref('int_calendar_days_generated') }}

),

named_categories as (

    select
        merchant_category,
        category_group,
        category_group_ko,
        is_restaurant,
        is_bar

    from category_map
    where merchant_category is not null

),

mcc_categories as (

    select
        mcc,
        category_group,
        category_group_ko,
        is_restaurant,
        is_bar

    from category_map
    where merchant_category is null

),

claims_ranked as (

    select
        transaction_id,
        claim_id,
        attendee_count,
        purpose_category,
        purpose_text,
        is_official_event,
        count(*) over (partition by transaction_id) as claim_count,
        row_number() over (partition by transaction_id order by submitted_at, claim_id) as claim_order

    from claims

),

first_claims as (

    select * from claims_ranked
    where claim_order = 1

),

with_merchant as (

    select
        transactions.*,
        coalesce(transactions.merchant_id, transactions.merchant_name) as merchant_key,
        coalesce(transactions.merchant_category, merchants.merchant_category) as resolved_merchant_category,
        coalesce(transactions.mcc, merchants.mcc) as resolved_mcc,
        coalesce(transactions.merchant_region, merchants.merchant_region) as resolved_merchant_region,
        coalesce(transactions.merchant_business_no, merchants.merchant_business_no) as resolved_business_no

    from transactions
    left join merchants
        on transactions.merchant_id = merchants.merchant_id

),

final as (

    select
        with_merchant.transaction_id,
        with_merchant.card_id,
        with_merchant.employee_id,
        with_merchant.is_employee_id_from_card,
        with_merchant.transacted_at,
        with_merchant.transacted_date,
        cast(extract(hour from with_merchant.transacted_at) as integer) as transacted_hour,
        cast(
            extract(hour from with_merchant.transacted_at) * 60
            + extract(minute from with_merchant.transacted_at)
            as integer
        ) as minute_of_day,
        calendar_days.iso_day_of_week,
        coalesce(calendar_days.is_weekend, false) as is_weekend,
        coalesce(calendar_days.is_holiday, false) as is_holiday,
        calendar_days.holiday_name,
        coalesce(calendar_days.is_working_day, true) as is_working_day,
        with_merchant.amount,
        with_merchant.currency,
        with_merchant.transaction_status,
        with_merchant.is_purchase,
        with_merchant.merchant_id,
        with_merchant.merchant_key,
        with_merchant.merchant_name,
        with_merchant.resolved_mcc as mcc,
        with_merchant.resolved_merchant_category as merchant_category,
        coalesce(named_categories.category_group, mcc_categories.category_group, 'unmapped') as category_group,
        coalesce(named_categories.category_group_ko, mcc_categories.category_group_ko, '미분류') as category_group_ko,
        coalesce(named_categories.is_restaurant, mcc_categories.is_restaurant, false) as is_restaurant,
        coalesce(named_categories.is_bar, mcc_categories.is_bar, false) as is_bar,
        with_merchant.resolved_merchant_region as merchant_region,
        with_merchant.resolved_business_no as merchant_business_no,
        employees.employee_id is not null as has_employee_record,
        employees.department,
        employees.grade,
        employees.job_family,
        employees.work_region,
        employees.home_region,
        employees.hire_date,
        employees.termination_date,
        employees.card_limit_krw,
        first_claims.claim_id,
        coalesce(first_claims.claim_count, 0) as claim_count,
        first_claims.attendee_count,
        first_claims.purpose_category,
        first_claims.purpose_text,
        coalesce(first_claims.is_official_event, false) as is_official_event

    from with_merchant
    left join named_categories
        on with_merchant.resolved_merchant_category = named_categories.merchant_category
    left join mcc_categories
        on with_merchant.resolved_mcc = mcc_categories.mcc
    left join employees
        on with_merchant.employee_id = employees.employee_id
    left join first_claims
        on with_merchant.transaction_id = first_claims.transaction_id
    left join calendar_days
        on with_merchant.transacted_date = calendar_days.calendar_date

)

select * from final
