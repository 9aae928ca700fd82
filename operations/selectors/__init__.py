"""Reads over the ledger, one module per capability, re-exported here so that the code reads
them all from `operations.selectors`:

- `dashboard`: the partner's operations right now, its figures and account totals, its
  notifications;
- `ordering`: the ordering rule, the last recorded report, the latest order, the newest report;
- `stock`: the copies a partner holds (searched and sorted), the partners holding a book, the
  totals held;
- `history`: one operation by id with its lines, the open ones, the history page;
- `returns`: one return by id, the recalls and returns still open, the copies a received return
  left short, the titles a partner could send back.

`cents` is read from here too, as before.
"""

from operations.models import cents
from operations.selectors.dashboard import (
    PartnerFigures,
    PartnerMoment,
    notifications_for,
    partner_figures,
    partner_moment,
    partner_overview,
    unread_notices,
    unread_notification_count,
)
from operations.selectors.history import (
    open_operations_for_partner,
    operation_get_for_partner,
    operation_history_for_partner,
    operation_items,
)
from operations.selectors.ordering import (
    last_report_for_partner,
    latest_order_for_partner,
    newest_report_pk,
    ordering_state,
)
from operations.selectors.returns import (
    open_recalls_for_partner,
    open_returns_for_partner,
    return_candidates,
    return_get_for_partner,
    return_shortfalls_for_partner,
)
from operations.selectors.stock import (
    STOCK_SORTS,
    ZERO_EUR,
    StockTotals,
    quantity_sum,
    stock_for_book,
    stock_for_partner,
    stock_quantities_for_partner,
    stock_rows_for_books,
    stock_search_for_partner,
    stock_totals,
)

__all__ = [
    "STOCK_SORTS",
    "ZERO_EUR",
    "PartnerFigures",
    "PartnerMoment",
    "StockTotals",
    "cents",
    "last_report_for_partner",
    "latest_order_for_partner",
    "newest_report_pk",
    "notifications_for",
    "open_operations_for_partner",
    "open_recalls_for_partner",
    "open_returns_for_partner",
    "operation_get_for_partner",
    "operation_history_for_partner",
    "operation_items",
    "ordering_state",
    "partner_figures",
    "partner_moment",
    "partner_overview",
    "quantity_sum",
    "return_candidates",
    "return_get_for_partner",
    "return_shortfalls_for_partner",
    "stock_for_book",
    "stock_for_partner",
    "stock_quantities_for_partner",
    "stock_rows_for_books",
    "stock_search_for_partner",
    "stock_totals",
    "unread_notices",
    "unread_notification_count",
]
