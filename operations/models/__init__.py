"""The operations app's models, one module per capability, re-exported here so that the code
reads them all from `operations.models`:

- `ledger`: operations (orders, sales reports, returns), their rules, and what protects them;
- `items`: the lines of the operations;
- `stock`: the copies each partner holds, kept in step with the ledger;
- `counters`: the reference numbers and each partner's event order;
- `notices`: in-app notifications and the reminders sent;
- `rollups`: totals per book, per partner and per month, kept beside the balances.
"""

# isort: off
# In the order the models were declared in the single models.py this package replaces:
# Django registers models as their modules are imported, and lists a model's reverse
# relations in that order, which the delete collector and the admin's delete page follow.
from operations.models.counters import EventCounter, ReferenceCounter
from operations.models.ledger import (
    LedgerProtected,
    Operation,
    OperationQuerySet,
    OrderingState,
    amount_due,
    cents,
)
from operations.models.items import Item, ItemQuerySet
from operations.models.stock import FREE, Stock, StockBalance, StockBalanceQuerySet
from operations.models.notices import Notification, Reminder

# Invoices and credit notes live in their own module; imported here so that Django finds them.
from operations.billing.models import (  # noqa: F401
    Allocation,
    BillingDocument,
    BillingLine,
    CreditNote,
    Invoice,
    Payment,
)
from operations.models.rollups import (
    BookSalesMonth,
    BookSalesTrailing,
    BookStockTotal,
    PartnerBookSalesMonth,
    PartnerSalesMonth,
    PartnerSalesTrailing,
    PartnerStockTotal,
    SalesWindow,
)
from operations.export_models import ExportFile

# isort: on
from operations.lifecycle import (
    COUNTS_IN_STOCK,
    OPEN_ORDER_STATUSES,
    REFERENCE_PREFIXES,
    STATES,
    Kind,
    Status,
    counts_in_stock,
)

__all__ = [
    "COUNTS_IN_STOCK",
    "FREE",
    "OPEN_ORDER_STATUSES",
    "REFERENCE_PREFIXES",
    "STATES",
    "BookSalesMonth",
    "BookSalesTrailing",
    "BookStockTotal",
    "EventCounter",
    "ExportFile",
    "Item",
    "ItemQuerySet",
    "Kind",
    "LedgerProtected",
    "Notification",
    "Operation",
    "OperationQuerySet",
    "OrderingState",
    "PartnerBookSalesMonth",
    "PartnerSalesMonth",
    "PartnerSalesTrailing",
    "PartnerStockTotal",
    "ReferenceCounter",
    "Reminder",
    "SalesWindow",
    "Status",
    "Stock",
    "StockBalance",
    "StockBalanceQuerySet",
    "amount_due",
    "cents",
    "counts_in_stock",
]
