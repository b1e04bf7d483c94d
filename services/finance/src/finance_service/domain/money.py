"""Money is Decimal with a currency, rounded once: ROUND_HALF_UP to the currency's minor unit when an amount is
computed (price × quantity, cost × quantity), never again afterwards. An order-level amount shared out (shipping
fee, tax, a carrier charge) is split by largest remainder, so the parts always add up to the whole."""

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from ecomops_common.money import minor_unit

ZERO = Decimal(0)


def allocate(total: Decimal, weights: Sequence[Decimal | int], currency: str) -> list[Decimal]:
    """Split `total` pro rata to `weights` in minor units; the parts sum to `total` exactly."""
    unit = minor_unit(currency)
    weight_sum = sum((Decimal(w) for w in weights), ZERO)
    if not weights:
        return []
    if weight_sum == 0:
        return [total] + [ZERO] * (len(weights) - 1)
    exact = [total * Decimal(w) / weight_sum for w in weights]
    parts = [share.quantize(unit, rounding=ROUND_DOWN) for share in exact]
    leftover = int((total - sum(parts, ZERO)) / unit)
    # The largest remainders get the leftover minor units; ties go to the earlier part.
    for index in sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]).copy_abs(), i))[:abs(leftover)]:
        parts[index] += unit if leftover > 0 else -unit
    return parts
