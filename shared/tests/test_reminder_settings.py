"""A reminder's day-count setting (``days_setting``): every service's reminder rules read theirs so."""

import pytest

from nxshared.core.reminders import days_setting


@pytest.mark.parametrize("value, days", [(14, 14), ("14", 14), (0, 0), (60, 60)])
def test_a_whole_number_of_days_in_range_is_taken(value, days):
    assert days_setting("REMINDER_LEAD_DAYS", value, 0, 60) == days


@pytest.mark.parametrize("value", [-1, 61, "x", "", " 7", "٧", 7.5, "7.5", True, None])
def test_anything_else_is_refused_naming_the_setting_and_its_range(value):
    with pytest.raises(ValueError, match=r"REMINDER_LEAD_DAYS must be 0\.\.60 days"):
        days_setting("REMINDER_LEAD_DAYS", value, 0, 60)
