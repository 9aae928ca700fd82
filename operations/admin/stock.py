"""The stock held by partners in the back office: a page per book or per partner, with its
CSV and XLSX (mixed into OperationAdmin, before ModelAdmin)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Partner
from catalog.models import Book, Series
from operations import analytics, exports
from operations.admin.querystrings import _query_with, _query_without
from operations.admin_list import PartnerPicker

STOCK_PAGE_SIZE = 50


class StockAdminMixin:
    """The stock page of OperationAdmin (mixed in before ModelAdmin)."""

    def stock_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = StockFilterForm(request.GET or None)
        filters = form.filters() if form.is_valid() else analytics.StockFilters()
        by_partner = form.is_valid() and form.cleaned_data["by"] == "partner"
        if by_partner:
            rows = analytics.stock_per_partner(filters)
        else:
            rows = analytics.stock_per_book(filters)
        if request.GET.get("format") in ("csv", "xlsx"):
            return stock_csv_response(rows, by_partner=by_partner, fmt=request.GET["format"])
        query = request.GET.copy()
        query.pop("format", None)
        page = Paginator(rows, STOCK_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Stock held by partners"),
            "opts": self.opts,
            "form": form,
            "rows": page.object_list,
            "priced": rows.priced_pages,
            "page": page,
            "page_query": _query_without(query, "page"),
            "summary": analytics.stock_summary(filters, by_partner=by_partner),
            "by_partner": by_partner,
            "filters": filters,
            "drill_book": form.cleaned_data.get("book") if form.is_valid() else None,
            "drill_partner": form.cleaned_data.get("partner") if form.is_valid() else None,
            "book_drill_query": _query_without(query, "by", "book"),
            "partner_drill_query": _query_without(query, "by", "book", "partner"),
            "csv_query": _query_with(query, format="csv"),
            "xlsx_query": _query_with(query, format="xlsx"),
        }
        return TemplateResponse(request, "admin/operations/stock.html", context)


class StockFilterForm(forms.Form):
    by = forms.ChoiceField(
        label=gettext_lazy("Show"),
        choices=[("book", gettext_lazy("per book")), ("partner", gettext_lazy("per partner"))],
        required=False,
    )
    series = forms.ModelChoiceField(
        label=gettext_lazy("Series"), queryset=Series.objects.order_by("name"), required=False
    )
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner"),
        queryset=Partner.objects.order_by("store_name"),
        required=False,
        widget=PartnerPicker(),
    )
    book = forms.ModelChoiceField(
        queryset=Book.objects.all(), required=False, widget=forms.HiddenInput
    )
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        choices=[
            ("", gettext_lazy("by name")),
            ("copies", gettext_lazy("most copies first")),
            ("spread", gettext_lazy("most partners or titles first")),
            ("value", gettext_lazy("highest retail value first (per book)")),
        ],
        required=False,
    )

    def clean_by(self):
        return self.cleaned_data.get("by") or "book"

    def filters(self) -> analytics.StockFilters:
        data = self.cleaned_data
        return analytics.StockFilters(
            series_id=data["series"].pk if data.get("series") else None,
            partner_id=data["partner"].pk if data.get("partner") else None,
            book_id=data["book"].pk if data.get("book") else None,
            query=data.get("q") or "",
            sort=data.get("sort") or "",
        )


def stock_csv_response(rows, *, by_partner: bool, fmt: str = "csv"):
    if by_partner:
        header = [_("Partner"), _("City"), _("Titles"), _("Copies"), _("Retail value")]
    else:
        header = [_("Book"), _("ISBN"), _("Partners"), _("Copies"), _("Retail value")]
    lines = ([row.label, row.detail, row.spread, row.copies, row.value] for row in rows)
    name = "partners" if by_partner else "books"
    return exports.stock_csv(header=header, rows=lines, name=name, fmt=fmt)
