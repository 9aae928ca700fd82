"""The operations app's back office, re-exported here so that Django's autodiscovery, which
imports `operations.admin`, registers every admin class of the app.
"""

from operations.admin.operations import (
    STOCK_PAGE_SIZE,
    ItemInline,
    NotificationAdmin,
    OperationAdmin,
    ReadFilter,
    ReasonForm,
    ReminderAdmin,
    SalesFilterForm,
    StockFilterForm,
    stock_csv_response,
)

__all__ = [
    "STOCK_PAGE_SIZE",
    "ItemInline",
    "NotificationAdmin",
    "OperationAdmin",
    "ReadFilter",
    "ReasonForm",
    "ReminderAdmin",
    "SalesFilterForm",
    "StockFilterForm",
    "stock_csv_response",
]
