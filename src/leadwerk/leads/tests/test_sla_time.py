"""Business-time arithmetic, checked by hand against a calendar (Monday to Friday, 8:00–17:00, Europe/Berlin)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from leadwerk.leads.models import BusinessCalendar
from leadwerk.leads.sla import add_business_minutes, business_minutes_between, hours_of, public_holidays

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def cal(state: str = "", **kwargs) -> BusinessCalendar:
    kwargs.setdefault("workdays", [0, 1, 2, 3, 4])
    return BusinessCalendar(state=state, day_starts=dt.time(8), day_ends=dt.time(17), **kwargs)


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        (at(2026, 11, 27, 16, 0), 120, at(2026, 11, 30, 9, 0)),  # Friday 16:00 + 2 h → Monday 9:00
        (at(2026, 11, 24, 10, 0), 120, at(2026, 11, 24, 12, 0)),  # within the day
        (at(2026, 11, 24, 15, 0), 120, at(2026, 11, 24, 17, 0)),  # ends exactly at closing time
        (at(2026, 11, 24, 18, 30), 60, at(2026, 11, 25, 9, 0)),  # evening → next morning
        (at(2026, 11, 24, 6, 0), 30, at(2026, 11, 24, 8, 30)),  # before opening
        (at(2026, 11, 28, 11, 0), 60, at(2026, 11, 30, 9, 0)),  # Saturday
        (at(2026, 11, 23, 8, 0), 24 * 60, at(2026, 11, 25, 14, 0)),  # 24 business hours = 2 days 6 h
        (at(2026, 11, 23, 9, 0), 20 * 9 * 60, at(2026, 12, 21, 9, 0)),  # 20 business days = 4 weeks (no holiday)
    ],
)
def test_add_business_minutes(start, minutes, due):
    assert add_business_minutes(cal(), start, minutes, BERLIN) == due


def test_whit_monday_is_skipped_everywhere():
    # Whit Monday 2026 is 25 May, a nationwide holiday.
    assert add_business_minutes(cal("NI"), at(2026, 5, 22, 16, 0), 120, BERLIN) == at(2026, 5, 26, 9, 0)


def test_corpus_christi_counts_in_bavaria_but_not_in_lower_saxony():
    # Corpus Christi 2026 is Thursday 4 June: a holiday in BY, a working day in NI.
    wednesday = at(2026, 6, 3, 16, 0)
    assert add_business_minutes(cal("BY"), wednesday, 120, BERLIN) == at(2026, 6, 5, 9, 0)
    assert add_business_minutes(cal("NI"), wednesday, 120, BERLIN) == at(2026, 6, 4, 9, 0)


def test_christmas_with_christmas_eve_as_extra_closed_day():
    start = at(2026, 12, 23, 16, 0)  # Wednesday
    # 24 December is no public holiday …
    assert add_business_minutes(cal(), start, 120, BERLIN) == at(2026, 12, 24, 9, 0)
    # … unless the tenant closes it; 25 and 26 December are holidays, then the weekend.
    closed = cal(closed_days=["2026-12-24", "2026-12-31"])
    assert add_business_minutes(closed, start, 120, BERLIN) == at(2026, 12, 28, 9, 0)


def test_autumn_dst_change_over_the_weekend_keeps_wall_clock_hours():
    # Summer time ends on Sunday 25 October 2026: Friday 16:00 CEST = 14:00 UTC, Monday 9:00 CET = 8:00 UTC.
    due = add_business_minutes(cal(), at(2026, 10, 23, 16, 0), 120, BERLIN)
    assert due == dt.datetime(2026, 10, 26, 8, 0, tzinfo=dt.UTC)
    assert due.astimezone(BERLIN).hour == 9


def test_a_working_window_spanning_the_spring_dst_change_has_one_hour_less():
    # Night shift 0:00–6:00 every day; on 29 March 2026 clocks jump from 2:00 to 3:00.
    night = BusinessCalendar(workdays=list(range(7)), day_starts=dt.time(0), day_ends=dt.time(6))
    assert business_minutes_between(night, at(2026, 3, 29, 0, 0), at(2026, 3, 29, 6, 0), BERLIN) == 300
    assert add_business_minutes(night, at(2026, 3, 29, 0, 0), 300, BERLIN) == at(2026, 3, 29, 6, 0)


def test_business_minutes_between():
    c = cal("BY")
    assert business_minutes_between(c, at(2026, 11, 27, 16, 0), at(2026, 11, 30, 9, 0), BERLIN) == 120
    assert business_minutes_between(c, at(2026, 11, 30, 9, 0), at(2026, 11, 27, 16, 0), BERLIN) == -120
    assert business_minutes_between(c, at(2026, 11, 28, 9, 0), at(2026, 11, 29, 18, 0), BERLIN) == 0
    # Corpus Christi in Bavaria: Wednesday 16:00 → Friday 9:00 is two business hours.
    assert business_minutes_between(c, at(2026, 6, 3, 16, 0), at(2026, 6, 5, 9, 0), BERLIN) == 120


def test_between_is_the_inverse_of_add():
    c = cal("NW", closed_days=["2026-12-24"])
    start = at(2026, 12, 18, 13, 17)
    for minutes in (1, 59, 540, 541, 3000, 10800):
        assert business_minutes_between(c, start, add_business_minutes(c, start, minutes, BERLIN), BERLIN) == minutes


def test_holiday_sets_are_cached_per_year_and_state():
    public_holidays.cache_clear()
    c = hours_of(cal("BY"), BERLIN)
    for day in range(1, 29):
        c.is_working_day(dt.date(2026, 2, day))
    info = public_holidays.cache_info()
    assert info.misses == 1 and info.hits == 19  # 20 weekdays look the set up; weekends never need it
    assert dt.date(2026, 1, 6) in public_holidays("BY", 2026)  # Epiphany: Bavaria …
    assert dt.date(2026, 1, 6) not in public_holidays("NI", 2026)  # … not Lower Saxony


def test_a_calendar_without_working_time_is_refused():
    with pytest.raises(ValueError):
        hours_of(BusinessCalendar(workdays=[0], day_starts=dt.time(17), day_ends=dt.time(8)), BERLIN)
