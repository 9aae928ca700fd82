"""What the ledger adds to the partner admin: the "awaiting a report" filter and, on the
change page, the partner's figures, stock and open order.

accounts knows nothing of operations (layers point down), so this module replaces the
accounts PartnerAdmin with a subclass; the operations.admin package imports it.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.admin import PartnerAdmin
from accounts.models import Partner
from operations.analytics import partners_awaiting_report
from operations.selectors import (
    open_operations_for_partner,
    partner_overview,
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

    def get_object(self, request, object_id, from_field=None):
        # change_view below and Django's own both ask: read the partner once per request.
        cache = request.__dict__.setdefault("_partner_objects", {})
        key = (object_id, from_field)
        if key not in cache:
            cache[key] = super().get_object(request, object_id, from_field)
        return cache[key]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        partner = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if partner is not None:
            # Billing: revenue and amount due from the invoices and credit notes.
            figures, totals = partner_overview(partner=partner)
            # One page of the titles held: a partner may hold thousands (counted above).
            stock_page = CountedPaginator(
                stock_for_partner(partner=partner), STOCK_PAGE_SIZE, count=figures.stock_titles
            ).get_page(request.GET.get("stock_page"))
            missing = return_shortfalls_for_partner(
                partner=partner, book_ids=[row["book_id"] for row in stock_page]
            )
            open_order, open_returns = open_operations_for_partner(partner=partner)
            extra_context.update(
                stock=[{**row, "missing": missing.get(row["book_id"], [])} for row in stock_page],
                stock_page=stock_page,
                open_returns=open_returns,
                open_order=open_order,
                figures=figures,
                partner=partner,
                balance=totals.balance,
            )
        return super().change_view(request, object_id, form_url, extra_context)


class CountedPaginator(Paginator):
    """A paginator told its count (already known from a total), so it runs no COUNT."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


admin.site.unregister(Partner)
admin.site.register(Partner, LedgerPartnerAdmin)
