from django.urls import path

from operations import views, views_catalogue, views_reports, views_returns, views_statements
from operations.billing import views as billing_views
from operations.billing import views_account

app_name = "operations"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("catalogue/", views_catalogue.catalogue, name="catalogue"),
    path("notices/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notices/read/", views.notifications_read_all, name="notifications_read_all"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/new/add/", views.order_add, name="order_add"),
    path("orders/new/update/", views.order_update, name="order_update"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("reports/new/", views_reports.report_new, name="report_new"),
    path("reports/new/scan/", views_reports.report_scan, name="report_scan"),
    path("reports/new/import/", views_reports.report_import, name="report_import"),
    path("reports/new/review/", views_reports.report_review, name="report_review"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("returns/new/", views_returns.return_new, name="return_new"),
    path("returns/<int:pk>/", views_returns.return_detail, name="return_detail"),
    path("returns/<int:pk>/ship/", views_returns.return_ship_view, name="return_ship"),
    path("returns/<int:pk>/cancel/", views_returns.return_cancel_view, name="return_cancel"),
    path("returns/<int:pk>/slip/", views_returns.return_slip, name="return_slip"),
    path("history/", views.history, name="history"),
    path("stock/", views.stock, name="stock"),
    path("stock/stock.csv", views.stock_csv, name="stock_csv"),
    path("stock/stock.xlsx", views.stock_csv, {"fmt": "xlsx"}, name="stock_xlsx"),
    path(
        "statement/",
        views_statements.consignment_statement_view,
        name="consignment_statement",
    ),
    path(
        "statement/pdf/",
        views_statements.consignment_statement_pdf_view,
        name="consignment_statement_pdf",
    ),
    # Invoices and credit notes.
    path("invoices/", billing_views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", billing_views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", billing_views.invoice_pdf, name="invoice_pdf"),
    # The partner's account: balance, payments, statement of account.
    path("billing/", views_account.billing_account, name="billing_account"),
    path("billing/statement/", views_account.account_statement, name="account_statement"),
    path(
        "billing/statement.pdf",
        views_account.account_statement_pdf_view,
        name="account_statement_pdf",
    ),
]
