"""What a machine caller may touch. A scanner (a device client) acts only at the warehouse node its token names;
a carrier confirms deliveries only of parcels it carries. Staff act at every node (their roles decide what)."""

from ecomops_common.auth import CARRIER, DEVICE, STAFF_ROLES, Principal
from ecomops_common.errors import Forbidden


def _is_machine(by: Principal, role: str) -> bool:
    return role in by.roles and not by.roles & STAFF_ROLES


def check_node(by: Principal, node: str) -> None:
    """Refuses a scanner acting at another node than its token's (403, reason "node")."""
    if _is_machine(by, DEVICE) and by.node != node:
        raise Forbidden("node", f"{by.name} is a scanner of node {by.node or 'none'}, not {node}")


def node_filter(by: Principal, node: str | None) -> str | None:
    """The node a listing is filtered by: a scanner's own (asking for another is refused); for staff, `node`."""
    if not _is_machine(by, DEVICE):
        return node
    check_node(by, node or by.node or "")
    return by.node


def check_carrier(by: Principal, carriers: set[str]) -> None:
    """Refuses a carrier client confirming an order whose parcels another carrier took (403, reason "carrier");
    an order whose shipments name no carrier may be confirmed by any carrier client."""
    if _is_machine(by, CARRIER) and carriers and (by.carrier or "").casefold() not in {
            carrier.casefold() for carrier in carriers}:
        raise Forbidden("carrier", f"{by.name} confirms deliveries for {by.carrier or 'no carrier'}; this order "
                                   f"left with {', '.join(sorted(carriers))}")
