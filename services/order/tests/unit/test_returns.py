from datetime import UTC, datetime, timedelta

from ecomops_common.contracts.returns import ReturnResolution, ReturnStatus
from order_service.domain.returns import Authorization, ReturnedLine, ReturnStep, order_returns

DAY_1 = datetime(2026, 11, 25, 9, tzinfo=UTC)
R = ReturnStatus


def step(rma_id: str, status: ReturnStatus, day: int, resolution: ReturnResolution | None = None) -> ReturnStep:
    authorization = Authorization(resolution, (ReturnedLine("1", "SKU", 1),)) if resolution else None
    return ReturnStep(rma_id, "o1", status, "returns", None, DAY_1 + timedelta(days=day - 1), authorization)


def test_rmas_come_by_authorization_time_each_with_its_latest_step_by_time():
    recorded = [step("RMA-2", R.authorized, 2, ReturnResolution.exchange),
                step("RMA-1", R.authorized, 1, ReturnResolution.refund),
                step("RMA-2", R.inspected, 5), step("RMA-2", R.received, 4),  # news that overtook the other
                step("RMA-1", R.refund_approved, 3),
                step("RMA-1", R.refunded, 3)]  # reported for the same instant: recording order decides
    first, second = order_returns(recorded)
    assert (first.rma_id, first.status, first.resolution) == ("RMA-1", R.refunded, ReturnResolution.refund)
    assert [s.status for s in first.steps] == [R.authorized, R.refund_approved, R.refunded]
    assert (second.rma_id, second.status, second.resolution) == ("RMA-2", R.inspected, ReturnResolution.exchange)
    assert second.lines == (ReturnedLine("1", "SKU", 1),)
    assert [s.status for s in second.steps] == [R.authorized, R.received, R.inspected]


def test_an_rma_whose_authorization_is_not_recorded_counts_from_its_first_step():
    unauthorized, authorized = order_returns([step("RMA-1", R.authorized, 2, ReturnResolution.refund),
                                              step("RMA-2", R.received, 1)])
    assert (unauthorized.rma_id, unauthorized.status, unauthorized.resolution, unauthorized.lines) == (
        "RMA-2", R.received, None, ())
    assert authorized.rma_id == "RMA-1"
    assert order_returns([]) == []
