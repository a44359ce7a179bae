"""Working days: weekends off, the State Council's holidays off, make-up working days on (the calendar seed)."""

from datetime import date

from creditlake.workdays import add_working_days, calendar_deadline, is_working_day, working_days_between


def test_weekends_holidays_and_make_up_days():
    assert is_working_day(date(2024, 3, 1))          # a Friday
    assert not is_working_day(date(2024, 3, 2))      # a Saturday
    assert not is_working_day(date(2024, 10, 3))     # National Day, a Thursday
    assert is_working_day(date(2024, 10, 12))        # a Saturday worked to make up the National Day holiday
    assert not is_working_day(date(2024, 2, 12))     # Spring Festival, a Monday
    assert is_working_day(date(2024, 2, 18))         # a Sunday worked after the Spring Festival


def test_the_start_day_is_not_counted():
    assert working_days_between(date(2024, 3, 4), date(2024, 3, 4)) == 0   # done the same day (当场登记)
    assert working_days_between(date(2024, 3, 1), date(2024, 3, 4)) == 1   # Friday -> Monday
    assert working_days_between(date(2024, 3, 2), date(2024, 3, 4)) == 1   # received on a Saturday
    assert working_days_between(date(2024, 3, 4), date(2024, 3, 1)) == 0   # before: nothing elapsed


def test_three_working_days_across_the_national_day_holiday():
    # Received Monday 30 September 2024: 1-7 October are holidays, so the third working day is 10 October.
    assert add_working_days(date(2024, 9, 30), 3) == date(2024, 10, 10)
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 10)) == 3
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 11)) == 4


def test_a_calendar_limit_ending_on_a_holiday_ends_on_the_next_working_day():
    assert calendar_deadline(date(2024, 7, 3), 90) == date(2024, 10, 8)   # 1 October falls in the holiday
    assert calendar_deadline(date(2024, 3, 1), 90) == date(2024, 5, 30)   # a Thursday: unchanged
