"""Working days for promised completion dates: weekends and public holidays skipped, make-up
working weekends (调休) counted. Expected dates are worked out by hand from holidays-cn.txt."""
from __future__ import annotations

from datetime import date

import pytest

from portal.core.workdays import DEFAULT_FILE, Calendar, load_calendar, parse_calendar


@pytest.fixture(scope="module")
def shipped() -> Calendar:
    return load_calendar(None)


def test_a_plain_calendar_skips_weekends_only():
    plain = Calendar()
    assert plain.add_working_days(date(2026, 11, 18), 1) == date(2026, 11, 19)  # Wed → Thu
    assert plain.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Fri → Mon
    assert plain.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Sat → Mon
    assert plain.add_working_days(date(2026, 11, 20), 5) == date(2026, 11, 27)
    assert plain.add_working_days(date(2026, 11, 20), 10) == date(2026, 12, 4)
    assert plain.add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 21)  # the start itself never counts
    # Without the holiday file, 1 October is an ordinary Thursday.
    assert plain.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 7)


def test_across_the_2026_national_day_holiday(shipped):
    # From Wed 30 Sep: 1–2 Oct off (Thu, Fri), 3–4 weekend, 5–7 off (Mon–Wed), then
    # Thu 8 (1), Fri 9 (2), Sat 10 make-up working day (3), Sun 11 no, Mon 12 (4), Tue 13 (5).
    assert shipped.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    # … Wed 14 (6), Thu 15 (7), Fri 16 (8), weekend, Mon 19 (9), Tue 20 (10).
    assert shipped.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    assert shipped.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert shipped.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)  # Fri → the working Saturday


def test_make_up_working_weekends_count(shipped):
    # Fri 18 Sep 2026: Sat 19 is a weekend, Sun 20 a make-up working day.
    assert shipped.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    # Mid-Autumn: Thu 24 Sep → Fri 25 off, weekend → Mon 28.
    assert shipped.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    # New Year 2026: Thu 1 and Fri 2 Jan off, Sat 3 weekend, Sun 4 worked.
    assert shipped.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert shipped.add_working_days(date(2025, 12, 31), 2) == date(2026, 1, 5)


def test_across_the_2026_spring_festival(shipped):
    # Fri 13 Feb → Sat 14 worked (1); 15 Sun; 16–20 off; 21–22 weekend; 23 Mon off; Tue 24 (2).
    assert shipped.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert shipped.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    # … Wed 25 (3), Thu 26 (4), Fri 27 (5), Sat 28 worked (6).
    assert shipped.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)


def test_across_the_2025_national_day_holiday(shipped):
    # 1–3 Oct (Wed–Fri) off, 4–5 weekend, 6–8 (Mon–Wed) off: Tue 30 Sep → Thu 9 Oct; Sat 11 worked.
    assert shipped.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert shipped.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)


def test_is_working_day(shipped):
    assert shipped.is_working_day(date(2026, 10, 8)) is True  # Thursday after the holiday
    assert shipped.is_working_day(date(2026, 10, 10)) is True  # make-up Saturday
    assert shipped.is_working_day(date(2026, 10, 1)) is False
    assert shipped.is_working_day(date(2026, 10, 11)) is False  # an ordinary Sunday
    assert shipped.is_working_day(date(2026, 11, 23)) is True


def test_the_shipped_file_parses(shipped):
    assert len(shipped.days_off) == 37 and len(shipped.extra_workdays) == 11
    assert date(2026, 10, 7) in shipped.days_off and date(2026, 10, 10) in shipped.extra_workdays
    assert min(shipped.days_off) == date(2025, 1, 1) and max(shipped.days_off) == date(2026, 10, 7)
    # As the file's header says: days off fall on weekdays, make-up working days on weekends.
    assert all(day.weekday() < 5 for day in shipped.days_off)
    assert all(day.weekday() >= 5 for day in shipped.extra_workdays)
    assert not shipped.days_off & shipped.extra_workdays
    assert parse_calendar(DEFAULT_FILE.read_text(encoding="utf-8")) == shipped


def test_comments_blank_lines_and_inline_comments_are_ignored():
    calendar = parse_calendar("# 国庆节\n\n  2026-10-01 off   # 国庆节\n2026-10-10\twork\n")
    assert calendar == Calendar(frozenset({date(2026, 10, 1)}), frozenset({date(2026, 10, 10)}))


@pytest.mark.parametrize(("line", "says"), [
    ("2026-13-01 off", "expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work', got '2026-13-01 off'"),
    ("2026-10-01", "expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work', got '2026-10-01'"),
    ("2026-10-01 off extra", "expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work', got '2026-10-01 off extra'"),
    ("10/01/2026 off", "expected 'YYYY-MM-DD off' or 'YYYY-MM-DD work', got '10/01/2026 off'"),
    ("2026-10-01 holiday", "expected 'off' or 'work', got 'holiday'"),
])
def test_a_malformed_line_raises_naming_the_file_and_line(line, says):
    text = f"# 2026\n2026-09-25 off\n\n{line}\n2026-10-10 work\n"
    with pytest.raises(ValueError) as info:
        parse_calendar(text, "holidays.txt")
    assert str(info.value) == f"holidays.txt:4: {says}"


def test_an_archives_own_file_is_loaded(tmp_path):
    own = tmp_path / "holidays-451200.txt"
    own.write_text("2026-11-23 off  # 本地节日\n", encoding="utf-8")
    calendar = load_calendar(str(own))
    assert calendar.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 24)
    broken = tmp_path / "broken.txt"
    broken.write_text("2026-11-23 off\n2026-11-24 of\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.txt:2: expected 'off' or 'work', got 'of'"):
        load_calendar(str(broken))
