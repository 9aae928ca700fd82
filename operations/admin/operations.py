"""The back office for operations: browse, act through the services, export.

Admins never add operations and never edit what carries a rule: every change of status goes
through operations.services (actions, order desk buttons), the change form edits the admin
note only, and deletion asks `operation_delete_refusal` first (rule 6).
"""

from datetime import date
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin import AuditEntryInline, ReadOnlyAdminMixin
from accounts.models import Partner
from catalog.models import Book, Series
from operations import analytics, exports
from operations.admin_exports import download_url
from operations.admin_list import (
    BookFilter,
    CappedCountPaginator,
    CreatedFilter,
    PartnerFilter,
    PartnerPicker,
    search_condition,
)
from operations.admin_returns import ReturnsAdminMixin
from operations.admin_statements import StatementsAdminMixin
from operations.billing import admin_payments  # noqa: F401  (registers payments)
from operations.billing.admin import report_documents_html  # also registers invoices
from operations.export_files import export_needs_task, export_request
from operations.models import Item, Notification, Operation, Reminder, Status
from operations.notifications import enqueue_emails
from operations.services import (
    notification_mark_read,
    notification_mark_unread,
    operation_delete,
    operation_delete_refusal,
    operation_set_admin_note,
    order_approve,
    order_deliver,
    order_reject,
    report_void,
    transition_refusal,
)
from toplivres.admin_tools import (
    ServiceActionsMixin,
    TamperProofActionsMixin,
    empty_or_set_filter,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=gettext_lazy("Kept in the history; the partner sees it."),
    )


class ItemInline(admin.TabularInline):
    model = Item
    fields = ["book", "isbn", "quantity", "requested", "damaged", "unit_price", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("book")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # A line posted to the change form (tampered: the inline is read-only) is never saved,
    # but is shown again: it has no book nor quantity.
    @admin.display(description=gettext_lazy("ISBN"))
    def isbn(self, item):
        return item.book.isbn if item.pk else "—"

    @admin.display(description=gettext_lazy("amount (EUR)"))
    def amount(self, item):
        return item.amount if item.pk else "—"


STOCK_PAGE_SIZE = 50


@admin.register(Operation)
class OperationAdmin(
    StatementsAdminMixin,
    ReturnsAdminMixin,
    ServiceActionsMixin,
    TamperProofActionsMixin,
    admin.ModelAdmin,
):
    list_display = ["reference", "kind", "status", "partner", "created_at", "counts_in_stock"]
    list_display_links = ["reference"]
    list_filter = [
        "kind",
        "status",
        ("partner", PartnerFilter),
        ("created_at", CreatedFilter),
        BookFilter,
    ]
    list_select_related = ["partner"]
    # The search and its limits: see operations.admin_list (never a join to the items).
    search_fields = ["reference"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = [ItemInline, AuditEntryInline]
    actions = ["approve", "deliver", "reject", "void", "refuse_returns", "resend_emails"]
    fieldsets = [
        (None, {"fields": ["reference", "kind", "status", "partner", "counts_in_stock"]}),
        (gettext_lazy("Invoice"), {"fields": ["billing_documents"]}),
        (gettext_lazy("Notes"), {"fields": ["partner_note", "admin_note"]}),
        (
            gettext_lazy("History"),
            {
                "fields": [
                    ("created_at", "created_by"),
                    ("approved_at", "approved_by"),
                    ("delivered_at", "delivered_by"),
                    ("closed_at", "closed_by"),
                    "close_reason",
                    "deletion",
                ]
            },
        ),
    ]
    readonly_fields = [
        "reference",
        "kind",
        "status",
        "partner",
        "counts_in_stock",
        "partner_note",
        "created_at",
        "created_by",
        "approved_at",
        "approved_by",
        "delivered_at",
        "delivered_by",
        "closed_at",
        "closed_by",
        "close_reason",
        "deletion",
        "billing_documents",
    ]

    def action_checkbox(self, obj):
        # Django's own renders a widget template per row, a quarter of the list's time.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    # -- permissions: no adding, no deleting what counts ------------------------------------

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and operation_delete_refusal(obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=gettext_lazy("invoice and credit note"))
    def billing_documents(self, obj):
        return report_documents_html(obj)

    @admin.display(description=gettext_lazy("deletion"))
    def deletion(self, obj):
        return operation_delete_refusal(obj) or _("Can be deleted: it does not count in stock.")

    # -- the change form edits the admin note, and only it -----------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied
        # Through the service: only the note is written, under the partner's lock, audited.
        operation_set_admin_note(operation=obj, by=request.user, note=obj.admin_note)

    def delete_model(self, request, obj):
        operation_delete(operation=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for operation in queryset:
            operation_delete(operation=operation, by=request.user)

    # -- search: reference, partner, or the book of an ISBN (operations.admin_list) --------

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_condition(search_term, request)), False

    @property
    def media(self):
        # The partner filter's picker: select2 from the admin's own static files.
        return super().media + PartnerPicker().media

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # A filter on common books counts fewer rows (see `holding_books`).
        return self.paginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            limit=getattr(request, "operations_count_limit", None),
        )

    # -- actions, each through a service, one message per refused row -------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            # Same name, so that Django's confirmation page posts back to this one.
            actions["delete_selected"] = (
                type(self).delete_selected_operations,
                "delete_selected",
                delete_selected.short_description,
            )
        return actions

    @admin.action(description=gettext_lazy("Approve the selected orders"))
    def approve(self, request, queryset):
        self.apply_to_each(
            request,
            queryset,
            lambda op: order_approve(order=op, by=request.user),
            lambda n: (
                ngettext("%(count)d order approved.", "%(count)d orders approved.", n)
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Mark the selected orders as delivered…"))
    def deliver(self, request, queryset):
        # A delivery is final (rule 5): a confirmation page first.
        return self._reason_step(request, queryset, "deliver")

    @admin.action(description=gettext_lazy("Reject the selected orders…"))
    def reject(self, request, queryset):
        return self._reason_step(request, queryset, "reject")

    @admin.action(description=gettext_lazy("Void the selected sales reports…"))
    def void(self, request, queryset):
        return self._reason_step(request, queryset, "void")

    @admin.action(description=gettext_lazy("Send the notification e-mails again"))
    def resend_emails(self, request, queryset):
        notice_ids = list(
            Notification.objects.filter(operation__in=queryset).values_list("pk", flat=True)
        )
        enqueue_emails(notice_ids)
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued.", "%(count)d e-mails queued.", len(notice_ids))
            % {"count": len(notice_ids)},
        )

    def delete_selected_operations(self, request, queryset):
        refusals = [r for r in map(operation_delete_refusal, queryset) if r]
        if refusals:
            for refusal in refusals:
                self.message_user(request, refusal, messages.ERROR)
            self.message_user(request, _("Nothing was deleted."), messages.WARNING)
            return None
        try:
            with transaction.atomic():
                return delete_selected(self, request, queryset)
        except ValidationError as error:  # changed meanwhile, between the check and the delete
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None

    # -- reject / void: a reason first ---------------------------------------------------------

    REASON_STEPS = {
        "deliver": {
            "title": gettext_lazy("Mark orders as delivered"),
            "intro": gettext_lazy(
                "A delivered order is final: its copies count in the partner's stock at once "
                "and it can no longer be rejected. Mark these orders as delivered?"
            ),
            "button": gettext_lazy("Mark as delivered"),
            "reason": False,
            "to": Status.DELIVERED,
            "done": lambda n: (
                ngettext("%(count)d order delivered.", "%(count)d orders delivered.", n)
                % {"count": n}
            ),
        },
        "reject": {
            "title": gettext_lazy("Reject orders"),
            "intro": gettext_lazy("The partner sees the reason. Rejected orders stay in history."),
            "button": gettext_lazy("Reject"),
            "to": Status.REJECTED,
            "done": lambda n: (
                ngettext("%(count)d order rejected.", "%(count)d orders rejected.", n)
                % {"count": n}
            ),
        },
        "void": {
            "title": gettext_lazy("Void sales reports"),
            "intro": gettext_lazy(
                "The copies of a voided report come back into the partner's stock. The report "
                "stays in history."
            ),
            "button": gettext_lazy("Void"),
            "to": Status.VOIDED,
            "done": lambda n: (
                ngettext("%(count)d sales report voided.", "%(count)d sales reports voided.", n)
                % {"count": n}
            ),
        },
        **ReturnsAdminMixin.RETURN_REASON_STEPS,
    }

    def _reason_service(self, request, step):
        if step == "deliver":
            return lambda op, reason: order_deliver(order=op, by=request.user)
        if step in self.RETURN_REASON_STEPS:
            return self._return_reason_service(request, step)
        if step == "reject":
            return lambda op, reason: order_reject(order=op, by=request.user, reason=reason)
        return lambda op, reason: report_void(report=op, by=request.user, reason=reason)

    def _reason_step(self, request, queryset, step, *, single=None):
        """Ask for a reason (intermediate page), then apply the service to each operation."""
        config = self.REASON_STEPS[step]
        form_class = ReasonForm if config.get("reason", True) else forms.Form
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            service = self._reason_service(request, step)
            reason = form.cleaned_data.get("reason", "")
            self.apply_to_each(request, queryset, lambda op: service(op, reason), config["done"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": config["title"],
            "intro": config["intro"],
            "button": config["button"],
            "form": form,
            "step": step,
            "queryset": queryset,
            "single": single,
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/operations/operation/reason.html", context)

    # -- order desk on the change page, CSV export, stock ------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="operations_operation_export"),
            path("stock/", wrap(self.stock_view), name="operations_stock"),
            path("analytics/", wrap(self.analytics_view), name="operations_analytics"),
            path(
                "<path:object_id>/approve/",
                wrap(partial(self.transition_view, step="approve")),
                name="operations_operation_approve",
            ),
            path(
                "<path:object_id>/deliver/",
                wrap(partial(self.transition_view, step="deliver")),
                name="operations_operation_deliver",
            ),
            path(
                "<path:object_id>/reject/",
                wrap(partial(self.transition_view, step="reject")),
                name="operations_operation_reject",
            ),
            path(
                "<path:object_id>/void/",
                wrap(partial(self.transition_view, step="void")),
                name="operations_operation_void",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        operation = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if operation is not None:
            extra_context["desk"] = {
                "approve": operation.can_become(Status.APPROVED),
                "deliver": operation.can_become(Status.DELIVERED),
                "reject": operation.is_order and operation.can_become(Status.REJECTED),
                "void": operation.is_report and operation.can_become(Status.VOIDED),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, step):
        operation = self.get_object(request, object_id)
        if operation is None:
            raise Http404
        if not self.has_change_permission(request, operation):
            raise PermissionDenied
        change_url = reverse("admin:operations_operation_change", args=[operation.pk])
        queryset = Operation.objects.filter(pk=operation.pk)
        to = self.REASON_STEPS[step]["to"] if step in self.REASON_STEPS else Status.APPROVED
        if not operation.can_become(to):
            # Said at once, before asking for a reason that could not be used.
            self.message_user(request, transition_refusal(operation, to), messages.ERROR)
            return HttpResponseRedirect(change_url)
        if step in self.REASON_STEPS:
            response = self._reason_step(request, queryset, step, single=operation)
            return response or HttpResponseRedirect(change_url)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self.approve(request, queryset)
        return HttpResponseRedirect(change_url)

    def export_view(self, request):
        """The changelist's rows, as filtered on screen, one CSV row per item."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        # "format" is the export's own parameter, not a filter of the changelist.
        request.GET = request.GET.copy()
        request.GET.pop("format", None)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect("admin:operations_operation_changelist")
        if not export_needs_task(changelist.queryset):
            return exports.operation_items_csv(changelist.queryset, fmt=fmt)
        # Too large to stream in a request: a task writes the file, the admin downloads it.
        export = export_request(by=request.user, query=request.GET.urlencode(), fmt=fmt)
        export.refresh_from_db()  # the immediate backend has already written it
        if export.is_ready:
            self.message_user(
                request,
                format_html(
                    _('The export {name} is ready: <a href="{url}">download it</a>.'),
                    name=export.name,
                    url=download_url(export),
                ),
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                format_html(
                    _(
                        "The export is large: {name} is being written. It will be listed "
                        'under <a href="{url}">export files</a> and sent to you by e-mail.'
                    ),
                    name=export.name,
                    url=reverse("admin:operations_exportfile_changelist"),
                ),
            )
        changelist_url = reverse("admin:operations_operation_changelist")
        return HttpResponseRedirect(f"{changelist_url}?{request.GET.urlencode()}")

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
        partners = analytics.sales_by_partner(filters)
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
            "partners": analytics.top_partners(partners),
            "partners_count": len(partners),
            "partners_total": analytics.sales_totals(partners),
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


def _query_with(query, **params) -> str:
    query = query.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()


def _query_without(query, *keys) -> str:
    query = query.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


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
        return analytics.SalesFilters(
            date_from=date_from or self.default_from,
            date_to=date_to or self.default_to,
            partner_id=partner.pk if partner else None,
            slow_days=data.get("days") or analytics.DEFAULT_SLOW_DAYS,
        )


def stock_csv_response(rows, *, by_partner: bool, fmt: str = "csv"):
    if by_partner:
        header = [_("Partner"), _("City"), _("Titles"), _("Copies"), _("Retail value")]
    else:
        header = [_("Book"), _("ISBN"), _("Partners"), _("Copies"), _("Retail value")]
    lines = ([row.label, row.detail, row.spread, row.copies, row.value] for row in rows)
    name = "partners" if by_partner else "books"
    return exports.stock_csv(header=header, rows=lines, name=name, fmt=fmt)


# -- notifications: each admin reads his own -------------------------------------------------


ReadFilter = empty_or_set_filter(
    field="read_at",
    title=gettext_lazy("read"),
    parameter="read",
    empty=("no", gettext_lazy("Unread")),
    filled=("yes", gettext_lazy("Read")),
)


@admin.register(Notification)
class NotificationAdmin(TamperProofActionsMixin, admin.ModelAdmin):
    list_display = ["event", "operation_link", "partner", "created_at", "is_unread"]
    list_display_links = None
    list_filter = [ReadFilter, "event"]
    actions = ["mark_read", "mark_unread"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(recipient=request.user)
            .select_related("operation", "operation__partner")
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("operation"), ordering="operation__reference")
    def operation_link(self, notice):
        url = reverse("admin:operations_operation_change", args=[notice.operation_id])
        return format_html('<a href="{}">{}</a>', url, notice.operation.reference)

    @admin.display(description=gettext_lazy("partner"))
    def partner(self, notice):
        return notice.operation.partner

    @admin.display(description=gettext_lazy("unread"), boolean=True)
    def is_unread(self, notice):
        return notice.read_at is None

    @admin.action(description=gettext_lazy("Mark as read"))
    def mark_read(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = notification_mark_read(user=request.user, ids=ids)
        self.message_user(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=gettext_lazy("Mark as unread"))
    def mark_unread(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        notification_mark_unread(user=request.user, ids=ids)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdminMixin, TamperProofActionsMixin, admin.ModelAdmin):
    """What `manage.py send_reminders` sent: read-only, one row per reminder."""

    list_display = ["key", "kind", "partner", "step", "sent_at"]
    list_filter = ["kind", "sent_at"]
    list_select_related = ["partner"]
    search_fields = ["key", "partner__store_name"]
    show_full_result_count = False


# The partner and book admins with what the ledger knows of them (replace the plain ones).
from operations import admin_books, admin_partners  # noqa: E402, F401
