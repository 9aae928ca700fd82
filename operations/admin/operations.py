"""The back office for operations: browse, act through the services, export.

Admins never add operations and never edit what carries a rule: every change of status goes
through operations.services (actions, order desk buttons), the change form edits the admin
note only, and deletion asks `operation_delete_refusal` first (rule 6).
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.admin import AuditEntryInline
from operations.admin.analytics import AnalyticsAdminMixin
from operations.admin.exports import ExportAdminMixin
from operations.admin.stock import StockAdminMixin
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
from operations.models import Item, Notification, Operation, Status
from operations.notifications import enqueue_emails
from operations.services import (
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


@admin.register(Operation)
class OperationAdmin(
    StatementsAdminMixin,
    ReturnsAdminMixin,
    ExportAdminMixin,
    StockAdminMixin,
    AnalyticsAdminMixin,
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
    list_per_page = 50  # as the partners, stock and sales tables: rendering is per row
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
