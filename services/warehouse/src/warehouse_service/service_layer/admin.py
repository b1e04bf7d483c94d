"""A node's layout (admins), and the receipts (purchase orders, ASNs) it expects (supervisors)."""

from datetime import UTC, datetime

from ecomops_common.errors import Conflict
from warehouse_service.domain.layout import Location
from warehouse_service.domain.scans import ExpectedReceipt
from warehouse_service.service_layer.unit_of_work import WarehouseUnitOfWork


class ReceiptExists(Conflict):
    pass


async def put_locations(uow: WarehouseUnitOfWork, locations: list[Location]) -> None:
    await uow.warehouse.put_locations(locations)
    await uow.commit()


async def expect_receipt(uow: WarehouseUnitOfWork, reference: str, node: str, lines: list[tuple[str, int]],
                         actor: str) -> ExpectedReceipt:
    """`lines`: (sku, units); a SKU on several lines is expected once, with their sum."""
    expected: dict[str, int] = {}
    for sku, units in lines:
        expected[sku] = expected.get(sku, 0) + units
    receipt = ExpectedReceipt(reference, node, expected, created_by=actor)
    if not await uow.warehouse.add_receipt(receipt, datetime.now(UTC)):
        raise ReceiptExists(f"receipt {reference} exists")
    await uow.commit()
    return receipt
