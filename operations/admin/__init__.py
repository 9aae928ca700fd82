"""The operations app's back office, one module per capability, re-exported here so that
Django's autodiscovery, which imports `operations.admin`, registers every admin class of the app:

- `operations`: OperationAdmin, its item inline, actions, reason steps and order desk;
- `exports`: the CSV and XLSX export of the operations' changelist;
- `stock`: the stock held by partners, per book or per partner;
- `analytics`: sales by month, by partner, best sellers and slow movers;
- `notices`: the admins' notifications and the reminders sent;
- `querystrings`: the query strings of the stock and analytics pages.

The stock, analytics and export pages are mixed into OperationAdmin, whose URLs they live under.
A test that changes a module's constant (e.g. `STOCK_PAGE_SIZE`) sets it on the module that
reads it (`operations.admin.stock`), not on this package.
"""

# isort: off
# In the order the single admin.py registered them: invoices and payments, then operations,
# notifications and reminders, then the partner and book admins that replace the plain ones.
from operations.admin.operations import ItemInline, OperationAdmin, ReasonForm
from operations.admin.exports import ExportAdminMixin
from operations.admin.stock import (
    STOCK_PAGE_SIZE,
    StockAdminMixin,
    StockFilterForm,
    stock_csv_response,
)
from operations.admin.analytics import AnalyticsAdminMixin, SalesFilterForm
from operations.admin.notices import NotificationAdmin, ReadFilter, ReminderAdmin

# The partner and book admins with what the ledger knows of them (replace the plain ones).
from operations import admin_books, admin_partners  # noqa: F401

# isort: on

__all__ = [
    "STOCK_PAGE_SIZE",
    "AnalyticsAdminMixin",
    "ExportAdminMixin",
    "ItemInline",
    "NotificationAdmin",
    "OperationAdmin",
    "ReadFilter",
    "ReasonForm",
    "ReminderAdmin",
    "SalesFilterForm",
    "StockAdminMixin",
    "StockFilterForm",
    "stock_csv_response",
]
