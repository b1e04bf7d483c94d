"""Rate shopping: business days, cut-offs in the node's time zone, the cheapest service meeting the promise, else
the fastest; channel rules, hazmat and weight limits."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from shipping_service.domain.rates import (
    ANY_CARRIER,
    BusinessCalendar,
    CarrierService,
    ChannelRule,
    NoService,
    ParcelSpec,
    Quote,
    choose_service,
    promise_from_level,
    rule_problems,
)

CALENDAR = BusinessCalendar()
FRIDAY, SATURDAY, MONDAY, TUESDAY = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 7), date(2026, 12, 8)
WEDNESDAY, THURSDAY, NEXT_FRIDAY = date(2026, 12, 9), date(2026, 12, 10), date(2026, 12, 11)
GROUND = CarrierService("simdhl", "ground", 3, time(16), hazmat_allowed=True, max_weight_kg=31.5)
EXPRESS = CarrierService("simdhl", "express", 1, time(14), max_weight_kg=31.5)
STANDARD = CarrierService("simups", "standard", 2, time(17), max_weight_kg=70)
SERVICES = [GROUND, EXPRESS, STANDARD]
QUOTES = [Quote("simdhl", "ground", Decimal("5.40"), "EUR"), Quote("simdhl", "express", Decimal("14.10"), "EUR"),
          Quote("simups", "standard", Decimal("7.10"), "EUR")]
LIGHT = ParcelSpec(1.0, hazmat=False)


def at(day: date, hour: int, minute: int = 0, zone=UTC) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


def choose(promised, now=None, parcel=LIGHT, rule=ANY_CARRIER, services=SERVICES, quotes=QUOTES):
    return choose_service(services, quotes, parcel, rule, promised, now or at(TUESDAY, 9), CALENDAR)


def test_business_days_skip_weekends_and_holidays():
    assert CALENDAR.add_business_days(FRIDAY, 1) == MONDAY
    assert CALENDAR.add_business_days(FRIDAY, 0) == FRIDAY
    assert CALENDAR.next_business_day(SATURDAY) == MONDAY
    holidays = BusinessCalendar(frozenset({MONDAY}))
    assert holidays.add_business_days(FRIDAY, 1) == TUESDAY
    assert not holidays.is_business_day(MONDAY)


def test_before_the_cutoff_a_parcel_leaves_today_after_it_the_next_business_day():
    assert CALENDAR.ship_date(at(TUESDAY, 15, 59), time(16)) == TUESDAY
    assert CALENDAR.ship_date(at(TUESDAY, 16), time(16)) == WEDNESDAY
    assert CALENDAR.ship_date(at(FRIDAY, 17), time(16)) == MONDAY
    assert CALENDAR.ship_date(at(SATURDAY, 9), time(16)) == MONDAY


def test_the_cutoff_is_read_in_the_nodes_time_zone():
    # 15:30 UTC is 16:30 in Berlin: past a 16:00 cut-off there
    berlin = at(TUESDAY, 15, 30).astimezone(ZoneInfo("Europe/Berlin"))
    assert CALENDAR.ship_date(berlin, time(16)) == WEDNESDAY
    assert CALENDAR.ship_date(at(TUESDAY, 15, 30), time(16)) == TUESDAY


def test_the_cheapest_service_that_meets_the_promise_is_chosen():
    # Tuesday 09:00: ground delivers Friday, standard Thursday, express Wednesday
    choice = choose(promised=NEXT_FRIDAY)
    assert (choice.service, choice.ship_date, choice.estimated_delivery, choice.meets_promise) == (
        GROUND, TUESDAY, NEXT_FRIDAY, True)
    assert choose(promised=THURSDAY).service == STANDARD
    assert choose(promised=WEDNESDAY).service == EXPRESS


def test_when_none_meets_the_promise_the_fastest_is_bought_and_says_so():
    choice = choose(promised=TUESDAY)
    assert (choice.service, choice.estimated_delivery, choice.meets_promise) == (EXPRESS, WEDNESDAY, False)


def test_after_a_services_cutoff_its_estimate_moves_a_day():
    # 14:30: express leaves tomorrow (Thursday delivery), standard still today (Thursday): standard is cheaper
    choice = choose(promised=THURSDAY, now=at(TUESDAY, 14, 30))
    assert (choice.service, choice.estimated_delivery) == (STANDARD, THURSDAY)
    # Wednesday is out of reach now: of the fastest (Thursday, express and standard) the cheaper
    choice = choose(promised=WEDNESDAY, now=at(TUESDAY, 14, 30))
    assert (choice.service, choice.estimated_delivery, choice.meets_promise) == (STANDARD, THURSDAY, False)


def test_without_a_promise_the_cheapest_is_chosen():
    assert choose(promised=None).service == GROUND


def test_channel_rules_restrict_carriers_and_services():
    assert choose(promised=NEXT_FRIDAY, rule=ChannelRule(carriers=frozenset({"simups"}))).service == STANDARD
    assert choose(promised=NEXT_FRIDAY, rule=ChannelRule(services=frozenset({"simdhl/express"}))).service == EXPRESS
    with pytest.raises(NoService):
        choose(promised=NEXT_FRIDAY, rule=ChannelRule(carriers=frozenset({"simups"}),
                                                 services=frozenset({"simdhl/ground"})))


def test_hazmat_goes_only_with_services_that_carry_it():
    choice = choose(promised=WEDNESDAY, parcel=ParcelSpec(1.0, hazmat=True))
    assert (choice.service, choice.meets_promise) == (GROUND, False)


def test_weight_limits_exclude_services():
    assert choose(promised=NEXT_FRIDAY, parcel=ParcelSpec(40.0, hazmat=False)).service == STANDARD
    with pytest.raises(NoService, match="80 kg"):
        choose(promised=NEXT_FRIDAY, parcel=ParcelSpec(80.0, hazmat=False))


def test_inactive_or_unquoted_services_are_not_bought():
    inactive = CarrierService("simdhl", "ground", 3, time(16), hazmat_allowed=True, active=False)
    assert choose(promised=NEXT_FRIDAY, services=[inactive, EXPRESS, STANDARD]).service == STANDARD
    with pytest.raises(NoService, match="quoted none"):
        choose(promised=NEXT_FRIDAY, quotes=[Quote("other", "x", Decimal(1), "EUR")])


def test_an_order_without_a_promised_date_is_promised_its_service_levels_business_days():
    assert promise_from_level(FRIDAY, 5, CALENDAR) == date(2026, 12, 11)
    assert promise_from_level(FRIDAY, 2, CALENDAR) == TUESDAY


def test_a_channel_rule_names_only_configured_carriers_and_services():
    assert rule_problems(["simdhl"], ["simups/standard"], SERVICES) == []
    assert rule_problems(["simdhl", "fedex"], ["simdhl/air"], SERVICES) == [
        ("carriers.1", "no carrier service of 'fedex' is configured"),
        ("services.0", "'simdhl/air' is not a configured carrier service (carrier/service)")]
