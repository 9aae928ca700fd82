"""Sales analytics in the back office: by month, by partner, best sellers and slow movers,
with a CSV and XLSX of each (mixed into OperationAdmin, before ModelAdmin)."""

from datetime import date

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Partner
from operations import analytics, exports
from operations.admin.querystrings import _query_with, _query_without
from operations.admin_list import PartnerPicker


class AnalyticsAdminMixin:
    """The sales analytics page of OperationAdmin (mixed in before ModelAdmin)."""

    def analytics_view(self, request):
        """Sales by month, by partner, best sellers and slow movers, with a CSV of each."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SalesFilterForm(request.GET or None)
        filters = form.filters()
        table = request.GET.get("table")
        fmt = request.GET.get("format")
        if fmt in ("csv", "xlsx") and table in exports.SALES_TABLES:
            return exports.sales_analytics_csv(table=table, filters=filters, fmt=fmt)
        months = analytics.sales_by_month(filters)
        partners = analytics.partner_sales(filters)
        query = request.GET.copy()
        query.pop("format", None)
        query.pop("table", None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sales analytics"),
            "opts": self.opts,
            "form": form,
            "filters": filters,
            "months": months,
            "months_total": analytics.sales_totals(months),
            "partners": partners.rows,
            "partners_count": partners.count,
            "partners_total": partners.total,
            "sales_partners_limit": analytics.SALES_PARTNERS_LIMIT,
            "books": analytics.best_sellers(filters),
            "slow": analytics.slow_movers(filters),
            "best_sellers_limit": analytics.BEST_SELLERS_LIMIT,
            "slow_movers_limit": analytics.SLOW_MOVERS_LIMIT,
            "partner_query": _query_without(query, "partner"),
            "csv_queries": {
                name: _query_with(query, table=name, format="csv") for name in exports.SALES_TABLES
            },
            "xlsx_queries": {
                name: _query_with(query, table=name, format="xlsx") for name in exports.SALES_TABLES
            },
        }
        return TemplateResponse(request, "admin/operations/analytics.html", context)


class SalesFilterForm(forms.Form):
    """The period, partner and slow-mover threshold of the sales analytics page.

    A field given wrongly shows its error and falls back to its default (see `filters`), so
    that the page always shows figures.
    """

    MAX_YEARS = 10

    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner"),
        queryset=Partner.objects.order_by("store_name"),
        required=False,
        widget=PartnerPicker(),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Slow movers: days without a sale"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=gettext_lazy(
            "Copies held whose last delivery and last sale are older than this many days."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_from, self.default_to = analytics.default_sales_period()
        if not self.is_bound:
            self.initial = {
                "date_from": self.default_from,
                "date_to": self.default_to,
                "days": analytics.DEFAULT_SLOW_DAYS,
            }

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not date(1900, 1, 1) <= day <= date(2999, 12, 31):
            raise ValidationError(_("Enter a date between 1900 and 2999."))
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        data = super().clean()
        if "date_from" not in data or "date_to" not in data:
            return data  # a date was refused: the period falls back to the default
        date_from = data["date_from"] or self.default_from
        date_to = data["date_to"] or self.default_to
        message = None
        if date_from > date_to:
            message = _("The end date is before the start date.")
        elif (date_to.year - date_from.year) * 12 + date_to.month - date_from.month >= (
            self.MAX_YEARS * 12
        ):
            message = _("The period can cover at most %(years)d years.") % {"years": self.MAX_YEARS}
        if message:
            self.add_error("date_to" if data["date_to"] else "date_from", message)
            data.pop("date_from", None)
            data.pop("date_to", None)
        return data

    def filters(self) -> analytics.SalesFilters:
        data = {}
        if self.is_bound:
            self.is_valid()  # refused fields are left out of cleaned_data
            data = self.cleaned_data
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if "date_from" not in data or "date_to" not in data:
            date_from = date_to = None  # one date refused: the whole period is the default
        partner = data.get("partner")
        filters = analytics.SalesFilters(
            date_from=date_from or self.default_from,
            date_to=date_to or self.default_to,
            partner_id=partner.pk if partner else None,
            slow_days=data.get("days") or analytics.DEFAULT_SLOW_DAYS,
        )
        return analytics.with_trailing(filters)
