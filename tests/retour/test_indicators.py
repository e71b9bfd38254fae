"""The observatory's indicators: how a declared value is read and which level it gets."""

from __future__ import annotations

import datetime as dt

import pytest

from retour import indicators as ind


@pytest.mark.parametrize(
    ("indicator", "value", "detail", "level", "met"),
    [
        pytest.param("online", "full", "", "good", True, id="online-full"),
        pytest.param("online", "proactive", "", "good", True, id="online-proactive"),
        pytest.param("online", "partial", "", "to_improve", False, id="online-partial"),
        pytest.param("online", "not_online", "", "poor", False, id="not-online"),
        pytest.param("accessibility", "100", "https://a.gouv.fr/a11y", "good", True, id="rgaa-100"),
        pytest.param(
            "accessibility", "75", "https://a.gouv.fr/a11y", "to_improve", False, id="rgaa-75"
        ),
        pytest.param("accessibility", "49", "https://a.gouv.fr/a11y", "poor", False, id="rgaa-49"),
        pytest.param("accessibility", "100", "none", "poor", False, id="no-statement"),
        pytest.param("accessibility", "100", "", "poor", False, id="rate-without-statement"),
        pytest.param("accessibility", "", "", "no_data", None, id="rgaa-undeclared"),
        pytest.param("franceconnect", "yes", "", "good", True, id="fc-yes"),
        pytest.param("franceconnect", "no", "", "poor", False, id="fc-no"),
        pytest.param("franceconnect", "not_applicable", "", "no_data", None, id="fc-na"),
        pytest.param("dlnuf", "1", "", "good", True, id="dlnuf-1"),
        pytest.param("dlnuf", "4", "", "to_improve", False, id="dlnuf-4"),
        pytest.param("dlnuf", "5", "", "poor", False, id="dlnuf-5"),
        pytest.param("help", "phone email", "", "good", True, id="help-2"),
        pytest.param("help", "chat", "", "to_improve", False, id="help-1"),
        pytest.param("help", "none", "", "poor", False, id="help-none"),
        pytest.param("online_share", "40", "", "good", None, id="share-no-goal"),
        pytest.param("yearly_volume", "", "", "no_data", None, id="volume-undeclared"),
    ],
)
def test_levels_follow_the_observatory(indicator, value, detail, level, met):
    rating = ind.rate_declared(indicator, value, detail)
    assert (rating.level, rating.goal_met) == (level, met)


@pytest.mark.parametrize(
    ("score", "level"),
    [(8.0, "good"), (7.9, "to_improve"), (5.0, "to_improve"), (4.9, "poor"), (None, "no_data")],
)
def test_satisfaction_levels(score, level):
    assert ind.rate_satisfaction(score).level == level


@pytest.mark.parametrize(
    ("indicator", "value", "detail", "stored"),
    [
        pytest.param("online", "FULL", "", ("full", ""), id="online-case"),
        pytest.param("accessibility", " 75 % ", "NONE", ("75", "none"), id="rate-percent"),
        pytest.param(
            "help",
            "email,phone",
            "https://a.gouv.fr/aide",
            ("phone email", "https://a.gouv.fr/aide"),
            id="help-order",
        ),
        pytest.param("yearly_volume", "1 200 000", "", ("1200000", ""), id="volume-spaces"),
        pytest.param("dlnuf", "", "", ("", ""), id="undeclared"),
    ],
)
def test_values_are_normalised(indicator, value, detail, stored):
    assert ind.normalise(indicator, value, detail) == stored


@pytest.mark.parametrize(
    ("indicator", "value", "detail", "code", "field"),
    [
        pytest.param("online", "yes", "", "online", "value", id="online-word"),
        pytest.param("accessibility", "101", "", "rate", "value", id="rate-over-100"),
        pytest.param(
            "accessibility",
            "50",
            "javascript:alert(1)",
            "statement",
            "detail",
            id="statement-not-url",
        ),
        pytest.param("help", "pigeon", "", "help", "value", id="help-unknown"),
        pytest.param("online_share", "-3", "", "share", "value", id="share-negative"),
        pytest.param("yearly_volume", "١٢", "", "volume", "value", id="volume-arabic-digits"),
    ],
)
def test_bad_values_are_refused_with_a_reason(indicator, value, detail, code, field):
    with pytest.raises(ind.InvalidValue) as caught:
        ind.normalise(indicator, value, detail)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_declaration_over_a_year_old_is_stale():
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    assert ind.is_stale(now - dt.timedelta(days=366), now)
    assert not ind.is_stale(now - dt.timedelta(days=300), now)
    assert not ind.is_stale(None, now)
