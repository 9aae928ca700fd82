"""What the ledger adds to the partner admin: the "awaiting a report" filter and, on the
change page, the partner's figures, stock and open order.

accounts knows nothing of operations (layers point down), so this module replaces the
accounts PartnerAdmin with a subclass; operations/admin.py imports it.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin import PartnerAdmin
from accounts.models import Partner
from operations.analytics import partners_awaiting_report
from operations.billing.account import partner_balance
from operations.billing.selectors import figures_with_billed_money
from operations.selectors import (
    open_order_for_partner,
    open_returns_for_partner,
    partner_figures,
    return_shortfalls_for_partner,
    stock_for_partner,
)

STOCK_PAGE_SIZE = 50


class ReportFilter(admin.SimpleListFilter):
    title = gettext_lazy("sales report")
    parameter_name = "report"

    def lookups(self, request, model_admin):
        return [("awaiting", _("Delivery awaiting a report"))]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(pk__in=partners_awaiting_report().values("pk"))
        return queryset


class LedgerPartnerAdmin(PartnerAdmin):
    list_filter = [*PartnerAdmin.list_filter[:1], ReportFilter, *PartnerAdmin.list_filter[1:]]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        partner = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if partner is not None:
            # One page of the titles held: a partner may hold thousands.
            stock_page = Paginator(stock_for_partner(partner=partner), STOCK_PAGE_SIZE).get_page(
                request.GET.get("stock_page")
            )
            missing = return_shortfalls_for_partner(
                partner=partner, book_ids=[row["book_id"] for row in stock_page]
            )
            extra_context.update(
                stock=[{**row, "missing": missing.get(row["book_id"], [])} for row in stock_page],
                stock_page=stock_page,
                open_returns=open_returns_for_partner(partner=partner),
                open_order=open_order_for_partner(partner=partner),
                # Billing: revenue and amount due from the invoices and credit notes.
                figures=figures_with_billed_money(
                    partner_figures(partner=partner), partner=partner
                ),
                partner=partner,
                balance=partner_balance(partner),
            )
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Partner)
admin.site.register(Partner, LedgerPartnerAdmin)
