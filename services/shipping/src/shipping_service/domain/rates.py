"""Rate shopping, in plain Python: when a parcel can leave (the service's cut-off at the node, business days), when
each carrier service would deliver it, and which one to buy: the cheapest that meets the promised date, else the
fastest (meets_promise=False). Channel rules, hazmat and weight limits decide which services may be asked at all."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class BusinessCalendar:
    """Monday to Friday, less the holidays."""

    holidays: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, day: date, days: int) -> date:
        for _ in range(days):
            day = self.next_business_day(day)
        return day

    def ship_date(self, local_now: datetime, cutoff: time) -> date:
        """Today if it is a business day and the cut-off (the node's local time) has not passed, else the next
        business day."""
        today = local_now.date()
        if self.is_business_day(today) and local_now.time().replace(tzinfo=None) < cutoff:
            return today
        return self.next_business_day(today)


@dataclass(frozen=True)
class CarrierService:
    carrier: str
    service: str
    transit_days: int  # business days from the ship date
    cutoff: time  # the node's local time after which a parcel leaves the next business day
    hazmat_allowed: bool = False
    max_weight_kg: float = 31.5
    active: bool = True

    @property
    def key(self) -> str:
        return f"{self.carrier}/{self.service}"


@dataclass(frozen=True)
class ChannelRule:
    """Which carriers and services a channel's parcels may go with; None: any."""

    carriers: frozenset[str] | None = None
    services: frozenset[str] | None = None  # "carrier/service"

    def allows(self, service: CarrierService) -> bool:
        return (self.carriers is None or service.carrier in self.carriers) and \
            (self.services is None or service.key in self.services)


ANY_CARRIER = ChannelRule()


@dataclass(frozen=True)
class Quote:
    """The carrier's price of a service for the parcel."""

    carrier: str
    service: str
    amount: Decimal
    currency: str

    @property
    def key(self) -> str:
        return f"{self.carrier}/{self.service}"


@dataclass(frozen=True)
class ParcelSpec:
    weight_kg: float
    hazmat: bool


@dataclass(frozen=True)
class Choice:
    service: CarrierService
    quote: Quote
    ship_date: date
    estimated_delivery: date
    meets_promise: bool


class NoService(Exception):
    """No service may carry the parcel; the message says why, for the people who look at failed parcels."""


def promise_from_level(placed_on: date, days: int, calendar: BusinessCalendar) -> date:
    """The promised date of an order that came without one: its service level's business days after placement."""
    return calendar.add_business_days(placed_on, days)


def eligible(services: Iterable[CarrierService], parcel: ParcelSpec, rule: ChannelRule) -> list[CarrierService]:
    return [s for s in services if s.active and rule.allows(s) and (s.hazmat_allowed or not parcel.hazmat)
            and parcel.weight_kg <= s.max_weight_kg]


def choose_service(services: Iterable[CarrierService], quotes: Iterable[Quote], parcel: ParcelSpec,
                   rule: ChannelRule, promised: date | None, local_now: datetime,
                   calendar: BusinessCalendar) -> Choice:
    """The cheapest eligible, quoted service delivering by `promised` (ties: the earlier delivery, then the name);
    none does: the fastest (ties: the cheaper), meets_promise=False. No promise (a return label): the cheapest."""
    priced = {quote.key: quote for quote in quotes}
    allowed = eligible(services, parcel, rule)
    options = []
    for service in allowed:
        if (quote := priced.get(service.key)) is None:
            continue
        ship = calendar.ship_date(local_now, service.cutoff)
        estimate = calendar.add_business_days(ship, service.transit_days)
        options.append(Choice(service, quote, ship, estimate, promised is None or estimate <= promised))
    if not options:
        why = "hazmat, " if parcel.hazmat else ""
        raise NoService(f"no active service allowed for the channel takes {why}{parcel.weight_kg:g} kg"
                        if not allowed else "the carrier quoted none of the allowed services")
    meeting = [o for o in options if o.meets_promise]
    if meeting:
        return min(meeting, key=lambda o: (o.quote.amount, o.estimated_delivery, o.service.key))
    return min(options, key=lambda o: (o.estimated_delivery, o.quote.amount, o.service.key))


def rule_problems(carriers: list[str] | None, services: list[str] | None,
                  configured: Iterable[CarrierService]) -> list[tuple[str, str]]:
    """(field, message) for each carrier or service a channel rule names that is not configured."""
    configured = list(configured)
    known_carriers = {s.carrier for s in configured}
    known_services = {s.key for s in configured}
    problems = [(f"carriers.{i}", f"no carrier service of {name!r} is configured")
                for i, name in enumerate(carriers or ()) if name not in known_carriers]
    problems += [(f"services.{i}", f"{name!r} is not a configured carrier service (carrier/service)")
                 for i, name in enumerate(services or ()) if name not in known_services]
    return problems
