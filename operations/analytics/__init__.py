"""Reads for the back office, one module per capability, re-exported here so that the code
reads them all from `operations.analytics`:

- `stock`: the copies held across partners, per book or per partner, and their summary;
- `desk`: what waits for an admin (partners owing a sales report, the order desk's counts);
- `sales`: the sales period and its rows, sales per month and per partner, the totals row
  (and the trailing twelve months the page opens on);
- `books`: the best sellers of the period, and the slow movers on the partners' shelves.
"""

from operations.analytics.books import SlowMover, best_sellers, slow_movers
from operations.analytics.desk import OrderDesk, order_desk, partners_awaiting_report
from operations.analytics.sales import (
    BEST_SELLERS_LIMIT,
    DEFAULT_SLOW_DAYS,
    SALES_PARTNERS_LIMIT,
    SLOW_MOVERS_LIMIT,
    PartnerSales,
    SalesFilters,
    SalesRow,
    default_sales_period,
    partner_sales,
    sales_by_month,
    sales_by_partner,
    sales_totals,
    top_partners,
    with_trailing,
)
from operations.analytics.stock import (
    STOCK_SORTS,
    StockFilters,
    StockRow,
    StockTable,
    stock_per_book,
    stock_per_partner,
    stock_summary,
)

__all__ = [
    "BEST_SELLERS_LIMIT",
    "DEFAULT_SLOW_DAYS",
    "SALES_PARTNERS_LIMIT",
    "SLOW_MOVERS_LIMIT",
    "STOCK_SORTS",
    "OrderDesk",
    "PartnerSales",
    "SalesFilters",
    "SalesRow",
    "SlowMover",
    "StockFilters",
    "StockRow",
    "StockTable",
    "best_sellers",
    "default_sales_period",
    "order_desk",
    "partner_sales",
    "partners_awaiting_report",
    "sales_by_month",
    "sales_by_partner",
    "sales_totals",
    "slow_movers",
    "stock_per_book",
    "stock_per_partner",
    "stock_summary",
    "top_partners",
    "with_trailing",
]
