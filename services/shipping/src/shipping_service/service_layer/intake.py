"""What shipping learns from other services: orders (promise, service level, channel), SKUs (weight, hazmat),
packed and dispatched parcels from the warehouse, authorized returns. Each is idempotent by its own key (an
upsert, a newer revision, a parcel or RMA id, a dispatch seen once), so no inbox row is needed."""

from datetime import UTC, datetime

from ecomops_common.contracts.catalog import SkuChanged
from ecomops_common.contracts.orders import OrderPlaced
from ecomops_common.contracts.returns import ReturnAuthorized
from ecomops_common.contracts.warehouse import ParcelPacked, ShipmentDispatched
from ecomops_common.handlers import Received
from shipping_service.domain.parcels import Parcel, ParcelKind, return_parcel_id
from shipping_service.service_layer.unit_of_work import ShippingUnitOfWork


async def follow_orders(uow: ShippingUnitOfWork, placed: list[Received[OrderPlaced]]) -> None:
    orders = {o.order_id: {"order_id": o.order_id, "channel": o.channel, "service_level": o.service_level.value,
                           "promised_date": o.promised_date, "placed_at": o.placed_at}
              for o in (r.message for r in placed)}
    await uow.shipping.upsert_orders(list(orders.values()))
    await uow.commit()


async def follow_skus(uow: ShippingUnitOfWork, changed: list[Received[SkuChanged]]) -> None:
    newest: dict[str, SkuChanged] = {}
    for sku in (r.message for r in changed):
        if sku.sku not in newest or sku.revision > newest[sku.sku].revision:
            newest[sku.sku] = sku
    await uow.shipping.upsert_skus([{"sku": s.sku, "revision": s.revision, "weight_kg": s.weight_kg,
                                     "hazmat_class": s.hazmat_class} for s in newest.values()])
    await uow.commit()


async def follow_warehouse(uow: ShippingUnitOfWork, received: list[Received[ParcelPacked | ShipmentDispatched]]
                           ) -> None:
    """Packed parcels are stored pending (their label is bought by the label job, once per parcel id);
    dispatched ones are marked for the handover to their carrier, which starts tracking. A dispatch with a
    tracking number that is not one of this service's labels (shipped by other means) is not followed."""
    now = datetime.now(UTC)
    messages = [r.message for r in received]
    await uow.shipping.add_parcels([
        Parcel(m.parcel_id, ParcelKind.outbound, m.node, [(line.sku, line.quantity) for line in m.lines], now,
               order_id=m.order_id) for m in messages if isinstance(m, ParcelPacked)])
    dispatched = {m.tracking_number: m for m in messages if isinstance(m, ShipmentDispatched)}
    if dispatched:
        parcels = await uow.shipping.parcels_by_tracking(dispatched, lock=True)
        await uow.shipping.save_parcels([parcel for number, parcel in parcels.items()
                                         if parcel.dispatch(dispatched[number].shipped_at)])
    await uow.commit()


async def follow_returns(uow: ShippingUnitOfWork, authorized: list[Received[ReturnAuthorized]]) -> None:
    """An authorized return gets one prepaid return label to its node (bought by the label job)."""
    now = datetime.now(UTC)
    await uow.shipping.add_parcels([
        Parcel(return_parcel_id(rma.rma_id), ParcelKind.return_, rma.node,
               [(line.sku, line.quantity) for line in rma.lines], now, order_id=rma.order_id, rma_id=rma.rma_id,
               channel=rma.channel)
        for rma in {r.message.rma_id: r.message for r in authorized}.values()])
    await uow.commit()
