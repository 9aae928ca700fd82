"""Invoices and credit notes in the back office: read-only, with the PDF and a CSV of lines.

Nothing here writes: the documents are issued by the report services only. Adding, changing
and deleting are refused for every admin, superusers included.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from operations.billing.models import (
    BillingLine,
    CreditNote,
    Invoice,
    InvoiceStatus,
)
from operations.billing.pdf import pdf_response
from operations.billing.selectors import documents_for_report, lines_for_export
from toplivres.csv import csv_response


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class BillingLineInline(ReadOnlyMixin, admin.TabularInline):
    model = BillingLine
    fields = [
        "position",
        "isbn",
        "title",
        "copies",
        "unit_price",
        "commission_rate",
        "gross",
        "commission",
        "net_excl_vat",
        "vat_rate",
        "vat",
        "net_incl_vat",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


class StatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        statuses = model_admin.statuses
        return [(status.value, status.label) for status in statuses]

    def queryset(self, request, queryset):
        if self.value() in InvoiceStatus.values:
            return queryset.with_status(self.value())
        return queryset


class DocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "issue_date",
        "partner",
        "report_link",
        "total_incl_vat",
        "status_label",
        "pdf_link",
    ]
    list_filter = [StatusFilter, "partner", "issue_date", "year"]
    list_select_related = ["partner", "report", "credit_note", "credited_invoice"]
    search_fields = ["number", "report__reference", "buyer_name"]
    date_hierarchy = "issue_date"
    ordering = ["-year", "-sequence"]
    inlines = [BillingLineInline]
    actions = None
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status_label",
                    "report_link",
                    "credit_link",
                    "payments_html",
                    ("issue_date", "due_date"),
                    "language",
                    "pdf_link",
                ]
            },
        ),
        (
            gettext_lazy("Amounts"),
            {
                "fields": [
                    "total_gross",
                    "total_commission",
                    "total_excl_vat",
                    "total_vat",
                    "total_incl_vat",
                    ("commission_rate", "vat_rate"),
                ]
            },
        ),
        (
            gettext_lazy("Seller"),
            {
                "fields": [
                    "seller_name",
                    "seller_address",
                    ("seller_postal_code", "seller_city", "seller_country"),
                    ("seller_siren", "seller_siret"),
                    ("seller_vat_number", "seller_vat_exempt_mention"),
                ]
            },
        ),
        (
            gettext_lazy("Buyer"),
            {
                "fields": [
                    "partner",
                    "buyer_name",
                    "buyer_address",
                    ("buyer_postal_code", "buyer_city", "buyer_country"),
                    "buyer_email",
                ]
            },
        ),
        (
            gettext_lazy("Terms"),
            {"fields": ["payment_terms_days", "late_penalty_rate", "recovery_indemnity"]},
        ),
    ]

    def get_queryset(self, request):
        # What is paid on each row, so that its status costs no query.
        return super().get_queryset(request).with_allocated()

    def get_readonly_fields(self, request, obj=None):
        return [
            name
            for fieldset in self.fieldsets
            for row in fieldset[1]["fields"]
            for name in (row if isinstance(row, tuple) else (row,))
        ]

    @admin.display(description=gettext_lazy("status"))
    def status_label(self, document):
        return document.get_status_display()

    @admin.display(description=gettext_lazy("sales report"), ordering="report__reference")
    def report_link(self, document):
        url = reverse("admin:operations_operation_change", args=[document.report_id])
        return format_html('<a href="{}">{}</a>', url, document.report.reference)

    @admin.display(description=gettext_lazy("credit note or credited invoice"))
    def credit_link(self, document):
        other = (
            document.credited_invoice
            if document.is_credit_note
            else getattr(document, "credit_note", None)
        )
        if other is None:
            return "-"
        name = "creditnote" if other.is_credit_note else "invoice"
        url = reverse(f"admin:operations_{name}_change", args=[other.pk])
        return format_html('<a href="{}">{}</a>', url, other.number)

    @admin.display(description=gettext_lazy("paid by"))
    def payments_html(self, document):
        """An invoice's allocations (payments and credit notes), and what is still due; a
        credit note's, to the invoices it paid."""
        if document.is_invoice:
            rows = document.allocations.select_related("payment", "credit_note").order_by("pk")
        else:
            rows = document.credit_allocations.select_related("invoice").order_by("pk")
        parts = format_html_join(
            mark_safe("<br>"),
            "{} · {} EUR",
            (
                (
                    str(row.invoice.number)
                    if document.is_credit_note
                    else (row.credit_note.number if row.credit_note_id else str(row.payment)),
                    row.amount,
                )
                for row in rows
            ),
        )
        if document.is_invoice:
            left = _("Still due: %(amount)s EUR") % {"amount": document.still_due()}
            return format_html("{}<br>{}", parts, left) if parts else left
        return parts or "-"

    @admin.display(description=gettext_lazy("PDF"))
    def pdf_link(self, document):
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_pdf", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, document.filename)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:object_id>/pdf/", wrap(self.pdf_view), name=f"{name}_pdf"),
            path("export/", wrap(self.export_view), name=f"{name}_export"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = self.get_queryset(request).filter(pk=object_id).first()
        if document is None:
            raise Http404
        return pdf_response(document)

    def export_view(self, request):
        """The invoice lines of the documents the changelist shows, for the accountant."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return lines_csv(changelist.queryset, name=self.opts.model_name)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["export_url"] = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_export"
        )
        return super().changelist_view(request, extra_context)


@admin.register(Invoice)
class InvoiceAdmin(DocumentAdmin):
    statuses = [
        InvoiceStatus.OPEN,
        InvoiceStatus.PARTLY_PAID,
        InvoiceStatus.PAID,
        InvoiceStatus.OVERDUE,
        InvoiceStatus.CREDITED,
    ]
    change_list_template = "admin/operations/billing/change_list.html"


@admin.register(CreditNote)
class CreditNoteAdmin(DocumentAdmin):
    statuses = []
    list_filter = ["partner", "issue_date", "year"]
    change_list_template = "admin/operations/billing/change_list.html"


def report_documents_html(report) -> str:
    """The invoice and credit note of a report, linked, for the report's admin page."""
    documents = documents_for_report(report=report)
    if not documents:
        return _("No invoice: nothing was sold.") if report.is_report else "-"
    return format_html_join(
        mark_safe("<br>"),
        '<a href="{}">{}</a> · {} · {} · <a href="{}">PDF</a>',
        (
            (
                reverse(f"admin:operations_{_admin_name(d)}_change", args=[d.pk]),
                d.number,
                d.issue_date.isoformat(),
                f"{d.total_incl_vat} EUR",
                reverse(f"admin:operations_{_admin_name(d)}_pdf", args=[d.pk]),
            )
            for d in documents
        ),
    )


def _admin_name(document) -> str:
    return "creditnote" if document.is_credit_note else "invoice"


def lines_csv(documents, *, name: str):
    """One row per line; credit note amounts are negative, so each column sums to the net.
    Written by toplivres.csv (the reader's spreadsheet dialect, formulas neutralised)."""
    header = [
        _("Number"),
        _("Kind"),
        _("Issue date"),
        _("Due date"),
        _("Partner"),
        _("Sales report"),
        _("Credited invoice"),
        _("Line"),
        _("ISBN"),
        _("Title"),
        _("Copies"),
        _("Retail unit price incl. VAT"),
        _("Commission rate (%)"),
        _("Sales at retail"),
        _("Commission"),
        _("Net excl. VAT"),
        _("VAT rate (%)"),
        _("VAT"),
        _("Net incl. VAT"),
    ]

    def rows():
        for line in lines_for_export(documents).iterator(chunk_size=2000):
            document = line.document
            sign = -1 if document.is_credit_note else 1
            yield [
                document.number,
                document.get_kind_display(),
                document.issue_date.isoformat(),
                document.due_date.isoformat(),
                document.buyer_name,
                document.report.reference,
                document.credited_invoice.number if document.credited_invoice_id else "",
                line.position,
                line.isbn,
                line.title,
                sign * line.copies,
                line.unit_price,
                line.commission_rate,
                sign * line.gross,
                sign * line.commission,
                sign * line.net_excl_vat,
                line.vat_rate,
                sign * line.vat,
                sign * line.net_incl_vat,
            ]

    filename = f"{name}-lines-{timezone.localdate().isoformat()}.csv"
    return csv_response(filename=filename, header=header, rows=rows())
