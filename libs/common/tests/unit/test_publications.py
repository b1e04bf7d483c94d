"""A service publishes only what its PUBLISHES declares, since docs/asyncapi.yaml is generated from the declaration."""

import re

import pytest
from pydantic import BaseModel

from ecomops_common.contracts import CHANNEL_ORDERS, ORDER_EVENTS, REGISTRY, contracts_on
from ecomops_common.db import Database
from ecomops_common.envelope import new_event
from ecomops_common.unit_of_work import SqlUnitOfWork


class Document(BaseModel):
    channel: str = "web"


def event(event_type: str):
    return new_event(event_type, 1, "order", "order", "o1", {})


async def test_the_unit_of_work_refuses_what_the_service_did_not_declare():
    database = Database("sqlite+aiosqlite:///:memory:")
    publishes = (*contracts_on(ORDER_EVENTS, "OrderPlaced"), *contracts_on(CHANNEL_ORDERS, "ChannelOrder"))
    async with SqlUnitOfWork(database, publishes=publishes) as uow:
        uow.emit(event("OrderPlaced"), ORDER_EVENTS)
        uow.emit_document(Document(), "web:1", "ChannelOrder", "returns", CHANNEL_ORDERS)
        with pytest.raises(ValueError, match="OrderRejected on order.events.v1 as an envelope is not in the service"):
            uow.emit(event("OrderRejected"), ORDER_EVENTS)
        with pytest.raises(ValueError, match="OrderPlaced on channel.orders.v1"):
            uow.emit(event("OrderPlaced"), CHANNEL_ORDERS)
        with pytest.raises(ValueError, match="ChannelOrder on channel.orders.v1 as an envelope"):
            uow.emit(event("ChannelOrder"), CHANNEL_ORDERS)
        with pytest.raises(ValueError, match="OrderPlaced on order.events.v1 as a bare document"):
            uow.emit_document(Document(), "o1", "OrderPlaced", "order", ORDER_EVENTS)
        assert len(uow._outbox) == 2
    await database.dispose()


def test_a_declaration_names_only_registered_contracts():
    with pytest.raises(LookupError, match="no contract for OrderShipped on order.events.v1"):
        contracts_on(ORDER_EVENTS, "OrderPlaced", "OrderShipped")


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda spec: spec.message_type)
def test_every_contract_states_its_kafka_key_in_fields_it_carries(spec):
    assert set(re.findall(r"[a-z_]+", spec.key)) <= set(spec.model.model_fields)
