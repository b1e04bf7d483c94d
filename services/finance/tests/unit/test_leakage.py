from finance_service.domain.leakage import FeeRule, uncharged_fee

RULE = FeeRule(frozenset({"defective"}), frozenset({"B", "C"}), frozenset({"opened", "damaged"}))
GOODS = [{"line_id": "1", "kind": "goods", "amount": "20.00"}]
WITH_FEE = [*GOODS, {"line_id": "1", "kind": "restocking_fee_C", "amount": "-4.00"}]


def line(**grades) -> dict:
    return {"line_id": "1", "sku": "A", "quantity": sum(grades.values()) or 1, "grades": grades}


def test_a_like_new_unit_refunded_apart_from_a_damaged_one_of_its_rma_owes_no_fee():
    assert uncharged_fee(RULE, "size_fit", [line(A=1)], GOODS, {"like_new", "damaged"}) is None
    assert uncharged_fee(RULE, "size_fit", [line(C=1)], WITH_FEE, {"like_new", "damaged"}) is None


def test_a_graded_unit_refunded_without_its_fee_is_flagged_by_grade():
    assert uncharged_fee(RULE, "size_fit", [line(A=1, C=1)], GOODS, set()) == {"grades": ["C"], "conditions": []}


def test_a_refund_before_inspection_is_judged_by_what_the_rma_was_graded_afterwards():
    assert uncharged_fee(RULE, "size_fit", [line()], GOODS, {"damaged"}) == {"grades": [], "conditions": ["damaged"]}
    assert uncharged_fee(RULE, "size_fit", [line()], GOODS, {"like_new"}) is None


def test_the_retailers_fault_owes_no_fee():
    assert uncharged_fee(RULE, "defective", [line(C=1)], GOODS, {"damaged"}) is None
