"""Dispositions move inspected units out of return_pending_inspection, or refuse when they are not there."""

from datetime import UTC, datetime

import pytest

from warehouse_service.domain.ledger import Balances, Place, StockStatus
from warehouse_service.domain.returns import DispositionRefused, disposition_movements

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
PENDING = Place("BER1", "RET-1", StockStatus.return_pending_inspection)


def test_units_go_to_their_disposition_or_off_the_books():
    balances = Balances({("A", PENDING): 3})
    refurbish = disposition_movements(balances, "BER1", "A", 2, "refurbish", "Q-1", "RMA-1", "returns", NOW)
    assert [(m.quantity, m.target) for m in refurbish] == [(2, Place("BER1", "RET-1", StockStatus.refurbish))]
    scrap, = disposition_movements(balances, "BER1", "A", 1, "scrap", "Q-1", "RMA-1", "returns", NOW)
    assert scrap.target is None and scrap.reason == "disposition"
    quarantine, = disposition_movements(balances, "BER1", "A", 1, "quarantine", "Q-1", "RMA-1", "returns", NOW)
    assert quarantine.target == Place("BER1", "Q-1", StockStatus.quarantined)


def test_liquidated_units_stay_on_the_books_awaiting_their_sale():
    balances = Balances({("A", PENDING): 2})
    liquidate, = disposition_movements(balances, "BER1", "A", 2, "liquidate", "Q-1", "RMA-1", "returns", NOW)
    assert liquidate.target == Place("BER1", "RET-1", StockStatus.liquidation)


def test_a_disposition_for_units_not_received_is_refused():
    with pytest.raises(DispositionRefused, match="only 0 waiting"):
        disposition_movements(Balances(), "BER1", "A", 1, "restock", None, "RMA-1", "returns", NOW)
