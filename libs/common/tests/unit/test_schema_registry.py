"""The committed schemas match the models, and the compatibility rules catch breaking changes.

Old and new versions of a contract are built from two pydantic models each, as a developer would
change them, so the rules are tested against the schemas pydantic really produces.
"""

import json
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from ecomops_common import schema_registry
from ecomops_common.schema_registry import compatibility_problems, generate, render

REPO_ROOT = schema_registry.find_root(Path(__file__).resolve())


def schema_of(model: type[BaseModel]) -> dict:
    return model.model_json_schema(mode="validation")


# --- the repository's schemas ---------------------------------------------------------------------


def test_committed_schemas_are_what_the_models_generate():
    """Fails when a contract model changed without `make schemas`: regenerate and commit."""
    generated = generate()
    on_disk = schema_registry.committed_files(REPO_ROOT)
    assert set(generated) == on_disk, "schema files and contracts differ: run `make schemas`"
    for relative, schema in generated.items():
        committed = (REPO_ROOT / relative).read_text()
        assert committed == render(schema), f"{relative} is out of date: run `make schemas`"


def test_every_contract_is_compatible_with_itself_and_named():
    schemas = generate()
    for schema in schemas.values():
        assert compatibility_problems(schema, schema) == []
    channel_order = schemas[Path("schemas/channel.orders.v1/ChannelOrder.json")]
    assert channel_order["$id"] == "channel.orders.v1/ChannelOrder"
    assert channel_order["title"] == "ChannelOrder"
    assert schemas[Path("schemas/envelope.json")]["title"] == "EventEnvelope"


def test_check_passes_on_the_repository(capsys):
    assert schema_registry.main(["check", "--root", str(REPO_ROOT)]) == 0
    assert "schemas up to date (" in capsys.readouterr().out


# --- breaking changes -----------------------------------------------------------------------------


def ticket_schema(*statuses: str) -> dict:
    """Version of a contract whose enum `Status` has these values (the same class, edited)."""
    status_enum = StrEnum("Status", {status: status for status in statuses})

    class Ticket(BaseModel):
        status: status_enum

    return schema_of(Ticket)


def problems(old_model: type[BaseModel], new_model: type[BaseModel]) -> list[str]:
    return compatibility_problems(schema_of(old_model), schema_of(new_model))


def test_removed_property_is_breaking():
    class Order(BaseModel):
        order_id: str
        note: str | None = None

    class OrderV2(BaseModel):
        order_id: str

    assert problems(Order, OrderV2) == ["Order.note: property removed"]


def test_type_change_in_a_nested_list_item_is_breaking():
    class Line(BaseModel):
        quantity: int

    class Order(BaseModel):
        lines: list[Line]

    old = schema_of(Order)

    class Line(BaseModel):  # noqa: F811 - the same definition, changed
        quantity: str

    class Order(BaseModel):  # noqa: F811
        lines: list[Line]

    assert compatibility_problems(old, schema_of(Order)) == [
        "Order.lines[].quantity: type changed from integer to string"
    ]


def test_new_required_property_is_breaking_new_optional_is_not():
    class Order(BaseModel):
        order_id: str

    class WithRequired(BaseModel):
        order_id: str
        warehouse: str

    class WithOptional(BaseModel):
        order_id: str
        warehouse: str | None = None
        priority: int = 0

    assert problems(Order, WithRequired) == [
        "Order.warehouse: new required property (new properties must be optional)"
    ]
    assert problems(Order, WithOptional) == []


def test_optional_becoming_required_is_breaking():
    class Order(BaseModel):
        order_id: str
        channel: str = "web"

    class OrderV2(BaseModel):
        order_id: str
        channel: str

    assert problems(Order, OrderV2) == ["Order.channel: optional property became required"]


def test_removed_property_in_a_nested_definition_is_breaking():
    class Address(BaseModel):
        city: str
        phone: str | None = None

    class Order(BaseModel):
        ship_to: Address

    old = schema_of(Order)

    class Address(BaseModel):  # noqa: F811
        city: str

    class Order(BaseModel):  # noqa: F811
        ship_to: Address

    new = schema_of(Order)
    assert "Address" in new["$defs"]  # the change is in $defs, reached through $ref
    assert compatibility_problems(old, new) == ["Order.ship_to.phone: property removed"]


def test_new_required_property_in_a_nested_definition_is_breaking():
    class Address(BaseModel):
        city: str

    class Order(BaseModel):
        ship_to: Address | None = None

    old = schema_of(Order)

    class Address(BaseModel):  # noqa: F811
        city: str
        country: str

    class Order(BaseModel):  # noqa: F811
        ship_to: Address | None = None

    assert compatibility_problems(old, schema_of(Order)) == [
        "Order.ship_to.country: new required property (new properties must be optional)"
    ]


def test_removed_enum_value_is_breaking_added_is_not():
    old = ticket_schema("open", "closed")
    assert "Status" in old["$defs"]

    assert compatibility_problems(old, ticket_schema("open")) == [
        "Ticket.status: enum values removed: closed (adding enum values is allowed, removing them is not)"
    ]
    assert compatibility_problems(old, ticket_schema("open", "closed", "archived")) == []


def test_renamed_definition_is_a_type_change():
    class Line(BaseModel):
        sku: str

    class Order(BaseModel):
        lines: list[Line]

    old = schema_of(Order)

    class OrderLine(BaseModel):
        sku: str

    class Order(BaseModel):  # noqa: F811
        lines: list[OrderLine]

    assert compatibility_problems(old, schema_of(Order)) == [
        "Order.lines[]: type changed from Line to OrderLine"]


def test_inline_literal_enum_value_removed_is_breaking():
    from typing import Literal

    class Ticket(BaseModel):
        status: Literal["open", "closed"]

    class TicketV2(BaseModel):
        status: Literal["open"]

    class TicketV3(BaseModel):
        status: Literal["open", "closed", "archived"]

    assert problems(Ticket, TicketV2) == [
        "Ticket.status: enum values removed: closed (adding enum values is allowed, removing them is not)"
    ]
    assert problems(Ticket, TicketV3) == []


def test_removing_null_is_breaking_adding_it_is_not():
    class Order(BaseModel):
        fraud_score: int | None = None

    class NotNullable(BaseModel):
        fraud_score: int = 0

    class Nullable(BaseModel):
        fraud_score: int | None = None

    assert problems(Order, NotNullable) == ["Order.fraud_score: no longer accepts null (nullable removed)"]
    assert problems(NotNullable, Order) == []
    assert problems(Order, Nullable) == []


def test_format_and_pattern_changes_are_breaking():
    from datetime import date, datetime

    class Order(BaseModel):
        placed_at: datetime
        currency: str = Field(pattern=r"^[A-Z]{3}$")

    class OrderV2(BaseModel):
        placed_at: date
        currency: str = Field(pattern=r"^[A-Z]{2,3}$")

    assert problems(Order, OrderV2) == [
        "Order.placed_at: format changed from 'date-time' to 'date'",
        "Order.currency: pattern changed from '^[A-Z]{3}$' to '^[A-Z]{2,3}$'",
    ]


def test_description_and_title_changes_are_compatible():
    class Order(BaseModel):
        """An order."""

        total: str = Field(description="Sum of lines")

    class OrderV2(BaseModel):
        """An order as the channel sent it."""

        total: str = Field(description="Sum of lines, shipping and tax", title="Grand total")

    assert problems(Order, OrderV2) == []


def test_recursive_definitions_terminate():
    class Category(BaseModel):
        name: str
        children: list["Category"] = []

    old = schema_of(Category)
    new = json.loads(json.dumps(old))
    assert compatibility_problems(old, new) == []


# --- the command ----------------------------------------------------------------------------------


def test_generate_writes_all_files_into_an_empty_root(tmp_path, capsys):
    assert schema_registry.main(["generate", "--root", str(tmp_path)]) == 0
    assert schema_registry.committed_files(tmp_path) == set(generate())
    assert schema_registry.main(["check", "--root", str(tmp_path)]) == 0
    assert "schemas up to date" in capsys.readouterr().out


def test_generate_refuses_an_incompatible_change(tmp_path, capsys):
    relative = Path("schemas/channel.orders.v1/ChannelOrder.json")
    published = json.loads(json.dumps(generate()[relative]))
    published["properties"]["gift_message"] = {"type": "string", "title": "Gift Message"}  # since removed
    (tmp_path / relative).parent.mkdir(parents=True)
    (tmp_path / relative).write_text(render(published))

    assert schema_registry.main(["generate", "--root", str(tmp_path)]) == 1

    error = capsys.readouterr().err
    assert "ChannelOrder.gift_message: property removed" in error
    assert ".v2" in error
    assert json.loads((tmp_path / relative).read_text()) == published  # left as committed
    assert schema_registry.committed_files(tmp_path) == {relative}  # and nothing else written


def test_check_fails_on_a_stale_file_and_on_a_removed_contract(tmp_path, capsys):
    assert schema_registry.main(["generate", "--root", str(tmp_path)]) == 0
    envelope = tmp_path / "schemas/envelope.json"
    envelope.write_text(envelope.read_text().replace("UUIDv7", "UUID"))
    orphan = tmp_path / "schemas/marketing.events.v1/CampaignOpened.json"
    orphan.parent.mkdir()
    orphan.write_text("{}\n")
    capsys.readouterr()

    assert schema_registry.main(["check", "--root", str(tmp_path)]) == 1

    error = capsys.readouterr().err
    assert "schemas/envelope.json: differs from the model" in error
    assert "marketing.events.v1/CampaignOpened.json: no contract exists" in error
    assert "make schemas" in error


@pytest.mark.parametrize("start", ["libs/common/src", "schemas"])
def test_root_is_found_from_inside_the_repository(start):
    assert schema_registry.find_root(REPO_ROOT / start) == REPO_ROOT
