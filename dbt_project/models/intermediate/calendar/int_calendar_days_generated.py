"""Korean working-day calendar, generated from the `holidays` package (holidays.KR) over the data's years.

Grain: one row per calendar date from 1 January of the first year with transactions (one year earlier, so that
90-day histories have a calendar) to 31 December of the year after the last one. Holidays are never typed by hand.
"""

import datetime as dt

import holidays
import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    transactions = dbt.ref("stg_issuer__card_transactions")
    first_year, last_year = transactions.aggregate(
        "min(year(transacted_date)), max(year(transacted_date))"
    ).fetchall()[0]
    this_year = dt.date.today().year
    first_year = (first_year or this_year) - 1
    last_year = (last_year or this_year) + 1

    korean_holidays = holidays.KR(years=range(first_year, last_year + 1), language="ko")
    days = pd.date_range(dt.date(first_year, 1, 1), dt.date(last_year, 12, 31), freq="D")
    frame = pd.DataFrame({"calendar_date": days.date})
    frame["holiday_name"] = [korean_holidays.get(day) for day in frame["calendar_date"]]
    frame["is_holiday"] = frame["holiday_name"].notna()
    frame["iso_day_of_week"] = [day.isoweekday() for day in frame["calendar_date"]]
    frame["is_weekend"] = frame["iso_day_of_week"] >= 6
    frame["is_working_day"] = ~(frame["is_holiday"] | frame["is_weekend"])
    frame["calendar_date"] = pd.to_datetime(frame["calendar_date"]).dt.date
    return frame
