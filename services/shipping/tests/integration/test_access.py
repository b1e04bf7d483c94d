"""Who may do what, and bad input answered with a 4xx naming the field, never a 500."""

import pytest

from ecomops_common.auth import AUDITOR, SUPERVISOR, WAREHOUSE_OPERATOR
from ecomops_common.contracts import WAREHOUSE_EVENTS

from .conftest import as_, packed, parcel_where, publish

pytestmark = pytest.mark.integration
GROUND = {"transit_days": 3, "cutoff": "16:00", "hazmat_allowed": True, "max_weight_kg": 31.5}


def fields_of(response) -> list[list]:
    return [error["loc"] for error in response.json()["detail"]]


async def test_a_fresh_stack_has_the_simulators_carrier_services(shipping):
    services = (await shipping.get("/v1/carrier-services", headers=as_("aud:al", AUDITOR))).json()
    assert [(s["carrier"], s["service"], s["transit_days"], s["cutoff"]) for s in services] == [
        ("simdhl", "express", 1, "14:00"), ("simdhl", "ground", 3, "16:00"), ("simups", "standard", 2, "17:00")]


async def test_only_supervisors_change_carrier_services_and_rules(shipping):
    operator = as_("op:olga", WAREHOUSE_OPERATOR)
    assert (await shipping.put("/v1/carrier-services/simdhl/ground", json=GROUND, headers=operator)).status_code == 403
    assert (await shipping.put("/v1/rules/carriers/web-eu", json={}, headers=operator)).status_code == 403
    assert (await shipping.post("/v1/parcels/x@WH1/retry", headers=operator)).status_code == 403
    assert (await shipping.get("/v1/parcels", headers={"Authorization": ""})).status_code == 401
    added = await shipping.put("/v1/carrier-services/simups/express", headers=as_("sup:ana", SUPERVISOR),
                               json={"transit_days": 1, "cutoff": "12:30", "max_weight_kg": 20})
    assert added.status_code == 200
    assert {k: added.json()[k] for k in ("cutoff", "hazmat_allowed", "active", "updated_by")} == {
        "cutoff": "12:30", "hazmat_allowed": False, "active": True, "updated_by": "sup:ana"}


async def test_bad_carrier_services_and_rules_are_refused_naming_the_field(shipping):
    bad = await shipping.put("/v1/carrier-services/simdhl/ground",
                             json={**GROUND, "cutoff": "25:00", "transit_days": -1, "max_weight_kg": 0})
    assert (bad.status_code, sorted(fields_of(bad))) == (422, [["body", "cutoff"], ["body", "max_weight_kg"],
                                                                 ["body", "transit_days"]])
    extra = await shipping.put("/v1/carrier-services/simdhl/ground", json={**GROUND, "updated_by": "someone"})
    assert (extra.status_code, fields_of(extra)) == (422, [["body", "updated_by"]])
    path = await shipping.put("/v1/carrier-services/SIM DHL/ground", json=GROUND)
    assert (path.status_code, fields_of(path)) == (422, [["path", "carrier"]])
    missing = await shipping.put("/v1/carrier-services/simdhl/ground", json={"cutoff": "16:00"})
    assert sorted(fields_of(missing)) == [["body", "max_weight_kg"], ["body", "transit_days"]]

    rule = await shipping.put("/v1/rules/carriers/web-eu", json={"carriers": ["simdhl", "fedex"],
                                                                  "services": ["simdhl/air"]})
    assert (rule.status_code, fields_of(rule)) == (422, [["body", "carriers", "1"], ["body", "services", "0"]])
    malformed = await shipping.put("/v1/rules/carriers/web-eu", json={"services": ["ground"]})
    assert (malformed.status_code, fields_of(malformed)) == (422, [["body", "services", 0]])
    unset = (await shipping.get("/v1/rules/carriers/web-eu")).json()
    assert (unset["carriers"], unset["services"], unset["updated_by"]) == (None, None, None)


async def test_bad_queries_and_unknown_things_are_4xx(shipping):
    assert fields_of(await shipping.get("/v1/parcels", params={"status": "lost"})) == [["query", "status"]]
    assert fields_of(await shipping.get("/v1/parcels", params={"limit": 0})) == [["query", "limit"]]
    backwards = await shipping.get("/v1/delivery-performance", params={"from": "2026-12-05", "to": "2026-12-01"})
    assert (backwards.status_code, fields_of(backwards)) == (422, [["query", "to"]])
    assert fields_of(await shipping.get("/v1/delivery-performance", params={"from": "yesterday"})) == [
        ["query", "from"]]
    edge = await shipping.get("/v1/delivery-performance", params={"from": "0001-01-01", "to": "9999-12-31"})
    assert (edge.status_code, edge.json()) == (200, [])
    assert (await shipping.get("/v1/tracking/JD-NONE")).status_code == 404
    assert (await shipping.get("/v1/parcels/none@WH1")).status_code == 404
    assert (await shipping.post("/v1/parcels/none@WH1/retry")).status_code == 404

    await publish(shipping, WAREHOUSE_EVENTS, packed("o-9", "WH1", [("SKU-1", 1)]))  # no order yet: pending
    await parcel_where(shipping, "o-9@WH1", lambda p: p["status"] == "pending")
    not_failed = await shipping.post("/v1/parcels/o-9@WH1/retry")
    assert (not_failed.status_code, not_failed.json()["detail"]) == (
        409, "parcel o-9@WH1 is pending; only a failed parcel is retried")
