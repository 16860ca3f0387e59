{#-
    Fails when the generated calendar misses a fixed-date Korean public holiday (신정, 삼일절, 광복절, 개천절,
    한글날, 기독탄신일) in any year it covers. Operationally: the weekend / holiday rules and features would
    silently treat holidays as working days (holidays.KR not installed or the calendar model broken).
-#}

with

calendar_days as (

    select * from {{ ref('int_calendar_days_generated') }}

),

fixed_holidays as (

    select
        calendar_date,
        is_holiday

    from calendar_days
    where
        (extract(month from calendar_date) = 1 and extract(day from calendar_date) = 1)
        or (extract(month from calendar_date) = 3 and extract(day from calendar_date) = 1)
        or (extract(month from calendar_date) = 8 and extract(day from calendar_date) = 15)
        or (extract(month from calendar_date) = 10 and extract(day from calendar_date) = 3)
        or (extract(month from calendar_date) = 10 and extract(day from calendar_date) = 9)
        or (extract(month from calendar_date) = 12 and extract(day from calendar_date) = 25)

),

final as (

    select calendar_date

    from fixed_holidays
    where not is_holiday

)

select * from final
