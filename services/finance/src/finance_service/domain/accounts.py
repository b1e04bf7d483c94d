"""The chart of accounts and which accounts each kind of fact posts to: data, not code paths."""

from dataclasses import dataclass
from enum import StrEnum


class AccountType(StrEnum):
    asset = "asset"
    liability = "liability"
    revenue = "revenue"
    contra_revenue = "contra_revenue"
    expense = "expense"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: AccountType


CHART: tuple[Account, ...] = (
    Account("1100", "Payment provider clearing", AccountType.asset),
    Account("1200", "Accounts receivable", AccountType.asset),
    Account("1250", "Vendor receivable", AccountType.asset),
    Account("1400", "Inventory", AccountType.asset),
    Account("2100", "Carrier payables", AccountType.liability),
    Account("2200", "Refunds payable", AccountType.liability),
    Account("2150", "Vendor payables", AccountType.liability),
    Account("2160", "Goods received not invoiced", AccountType.liability),
    Account("2300", "Sales tax payable", AccountType.liability),
    Account("2500", "Store credit liability", AccountType.liability),
    Account("2600", "Marketplace fees payable", AccountType.liability),
    Account("4000", "Sales revenue", AccountType.revenue),
    Account("4010", "Sales returns", AccountType.contra_revenue),
    Account("4100", "Shipping revenue", AccountType.revenue),
    Account("4200", "Restocking fee income", AccountType.revenue),
    Account("5000", "Cost of goods sold", AccountType.expense),
    Account("5100", "Inventory write-off", AccountType.expense),
    Account("5150", "Purchase price variance", AccountType.expense),  # invoiced above (+) or below (−) receipt cost
    Account("5200", "Freight expense", AccountType.expense),
    Account("5210", "Return freight", AccountType.expense),
    Account("5300", "Inventory count gain/loss", AccountType.expense),
    Account("5450", "Supplier recoveries", AccountType.expense),  # credits: what vendors make good
    Account("5600", "Marketplace fees", AccountType.expense),
)
ACCOUNTS = {account.code: account for account in CHART}

CLEARING, RECEIVABLE, VENDOR_RECEIVABLE, INVENTORY = "1100", "1200", "1250", "1400"
CARRIER_PAYABLES, VENDOR_PAYABLES, REFUNDS_PAYABLE, TAX_PAYABLE = "2100", "2150", "2200", "2300"
GOODS_RECEIVED_NOT_INVOICED = "2160"
STORE_CREDIT, FEES_PAYABLE = "2500", "2600"
REVENUE, SALES_RETURNS, SHIPPING_REVENUE, RESTOCKING_FEES = "4000", "4010", "4100", "4200"
COGS, WRITE_OFF, FREIGHT, RETURN_FREIGHT, COUNT_GAIN_LOSS = "5000", "5100", "5200", "5210", "5300"
PURCHASE_PRICE_VARIANCE = "5150"
SUPPLIER_RECOVERIES, MARKETPLACE_FEES = "5450", "5600"

# What the customer's payment is owed on, by the order's payment method; any other method is a provider's.
# `exchange` orders replace returned goods: no money moves, so they post cost only.
# `store_credit` orders were prepaid from the customer's credit when placed (Dr store credit, Cr receivable).
RECEIVABLE_BY_PAYMENT_METHOD = {"invoice": RECEIVABLE, "cash_on_delivery": RECEIVABLE, "cod": RECEIVABLE,
                                "store_credit": RECEIVABLE, "exchange": None}

# What an approved refund is owed on, by how it is paid: store credit is a liability of its own, issued at once;
# every other method is paid out through the payment provider.
STORE_CREDIT_METHOD, ORIGINAL_PAYMENT = "store_credit", "original_payment"
PAYABLE_BY_REFUND_METHOD = {STORE_CREDIT_METHOD: STORE_CREDIT}

# Where returned units' cost goes: back into inventory while the business still owns sellable or recoverable
# units (units to liquidate stay until sold: RecoveryStockMoved writes them off less the proceeds), to write-off
# when they are destroyed.
INVENTORY_DISPOSITIONS = frozenset({"restock", "refurbish", "quarantine", "vendor_return", "liquidate"})
WRITE_OFF_DISPOSITIONS = frozenset({"scrap"})
