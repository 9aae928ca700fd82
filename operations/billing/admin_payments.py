"""Payments in the back office: record one from a partner's page (applied oldest due first
or as the admin says), list, filter and export them, cancel one with a reason (never
delete); each partner's account with a running balance, its statement as PDF, every
partner's statements as a zip; the receivables.

Every write calls operations.billing.payment_services.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Partner
from operations.billing.account import (
    account_lines,
    account_summary,
    open_invoices,
    payments_for_partner,
    receivables,
)
from operations.billing.forms import (
    ApplyCreditForm,
    CancelPaymentForm,
    PaymentForm,
    PeriodForm,
)
from operations.billing.payment_services import payment_allocate, payment_cancel, payment_record
from operations.billing.payments import Payment
from operations.billing.statement import (
    account_statement_pdf,
    statement_filename,
    statements_zip,
)
from toplivres.csv import csv_response


class CancelledFilter(admin.SimpleListFilter):
    title = gettext_lazy("cancelled")
    parameter_name = "cancelled"

    def lookups(self, request, model_admin):
        return [("no", _("Valid")), ("yes", _("Cancelled"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.cancelled()
        if self.value() == "no":
            return queryset.valid()
        return queryset


class ChoosePartnerForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Partner"),
        queryset=Partner.objects.order_by("store_name"),
    )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "received_on",
        "partner",
        "amount",
        "method",
        "reference",
        "unallocated_amount",
        "state",
    ]
    list_filter = ["partner", "method", CancelledFilter, "received_on"]
    list_select_related = ["partner"]
    search_fields = ["reference", "partner__store_name"]
    date_hierarchy = "received_on"
    ordering = ["-received_on", "-pk"]
    actions = None
    change_form_template = "admin/operations/billing/payment_change_form.html"
    change_list_template = "admin/operations/billing/payment_change_list.html"
    fields = [
        "partner",
        "amount",
        "received_on",
        "method",
        "reference",
        "note",
        "recorded_by",
        "recorded_at",
        "allocations_html",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).with_unallocated()

    # Payments are recorded and cancelled through the services only, never edited or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _can(self, request, action: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{action}_{self.opts.model_name}")

    @admin.display(description=gettext_lazy("not applied"), ordering="unallocated")
    def unallocated_amount(self, payment):
        return "-" if payment.is_cancelled else payment.unallocated

    @admin.display(description=gettext_lazy("state"))
    def state(self, payment):
        return _("Cancelled") if payment.is_cancelled else _("Valid")

    @admin.display(description=gettext_lazy("applied to"))
    def allocations_html(self, payment):
        rows = payment.allocations.select_related("invoice").order_by("pk")
        if not rows:
            return _("Nothing (cancelled, or credit).")
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a> · {} EUR',
            (
                (
                    reverse("admin:operations_invoice_change", args=[row.invoice_id]),
                    row.invoice.number,
                    row.amount,
                )
                for row in rows
            ),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        pages = [
            ("record/<int:partner_id>/", self.record_view, "record"),
            ("<int:object_id>/cancel/", self.cancel_view, "cancel"),
            ("export/", self.export_view, "export"),
            ("account/<int:partner_id>/", self.account_view, "account"),
            ("account/<int:partner_id>/apply-credit/", self.apply_credit_view, "apply_credit"),
            ("account/<int:partner_id>/statement.pdf", self.statement_view, "statement"),
            ("statements.zip", self.statements_zip_view, "statements_zip"),
            ("receivables/", self.receivables_view, "receivables"),
        ]
        return [
            *(path(route, wrap(view), name=f"operations_payment_{n}") for route, view, n in pages),
            *super().get_urls(),
        ]

    def _page(self, request, template, context):
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    # -- record, from the partner's page -------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Choose the partner, then record its payment on its own page (its open invoices)."""
        if not self._can(request, "add"):
            raise PermissionDenied
        form = ChoosePartnerForm(request.GET if "partner" in request.GET else None)
        if form.is_bound and form.is_valid():
            return redirect("admin:operations_payment_record", form.cleaned_data["partner"].pk)
        return self._page(
            request,
            "admin/operations/billing/payment_form.html",
            {
                "title": _("Record a payment"),
                "form": form,
                "method": "get",
                "button": _("Next"),
                "back": reverse("admin:operations_payment_changelist"),
            },
        )

    def record_view(self, request, partner_id):
        if not self._can(request, "add"):
            raise PermissionDenied
        partner = get_object_or_404(Partner.objects.select_related("user"), pk=partner_id)
        invoices = open_invoices(partner=partner)
        form = PaymentForm(request.POST or None, invoices=invoices)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                payment = payment_record(
                    partner=partner,
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    reference=data["reference"],
                    note=data["note"],
                    by=request.user,
                    allocate_to=form.allocate_to(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("Payment of %(amount)s EUR recorded for %(partner)s.")
                    % {"amount": payment.amount, "partner": partner},
                )
                return redirect("admin:operations_payment_account", partner.pk)
        return self._page(
            request,
            "admin/operations/billing/payment_form.html",
            {
                "title": _("Record a payment from %(partner)s") % {"partner": partner},
                "intro": _(
                    "Leave the amounts below empty to apply the payment to the oldest due "
                    "invoices first; what is left over is the partner's credit."
                ),
                "partner": partner,
                "invoices": invoices,
                "form": form,
                "method": "post",
                "button": _("Record the payment"),
                "back": reverse("admin:accounts_partner_change", args=[partner.pk]),
            },
        )

    # -- cancel ----------------------------------------------------------------------------------

    def cancel_view(self, request, object_id):
        if not self._can(request, "change"):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("partner"), pk=object_id)
        change_url = reverse("admin:operations_payment_change", args=[payment.pk])
        if payment.is_cancelled:
            self.message_user(request, _("This payment is already cancelled."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = CancelPaymentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payment_cancel(payment=payment, reason=form.cleaned_data["reason"], by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                done = _("Payment %(payment)s cancelled.") % {"payment": payment}
                self.message_user(request, done)
                return HttpResponseRedirect(change_url)
        return self._page(
            request,
            "admin/operations/billing/payment_form.html",
            {
                "title": _("Cancel payment %(payment)s") % {"payment": payment},
                "intro": _(
                    "The payment stays on record, marked cancelled; the invoices it paid are "
                    "open again."
                ),
                "form": form,
                "method": "post",
                "button": _("Cancel the payment"),
                "back": change_url,
            },
        )

    # -- the partner's account -------------------------------------------------------------------

    def account_view(self, request, partner_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        partner = get_object_or_404(Partner.objects.select_related("user"), pk=partner_id)
        period = PeriodForm(request.GET or None)
        date_from, date_to = period.period()
        summary = account_summary(partner=partner)
        credit_form = None
        if summary.credit > 0 and summary.open_invoices and self._can(request, "change"):
            credit_form = ApplyCreditForm(invoices=summary.open_invoices)
        return self._page(
            request,
            "admin/operations/billing/account.html",
            {
                "title": _("Account of %(partner)s") % {"partner": partner},
                "partner": partner,
                "summary": summary,
                "account": account_lines(partner, date_from, date_to),
                "period": period,
                "date_from": date_from,
                "date_to": date_to,
                "payments": list(payments_for_partner(partner=partner)[:20]),
                "credit_form": credit_form,
                "can_record": self._can(request, "add"),
                "can_change": self._can(request, "change"),
            },
        )

    def apply_credit_view(self, request, partner_id):
        if not self._can(request, "change"):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        partner = get_object_or_404(Partner, pk=partner_id)
        form = ApplyCreditForm(request.POST, invoices=open_invoices(partner=partner))
        account_url = reverse("admin:operations_payment_account", args=[partner.pk])
        if not form.is_valid():
            for errors in form.errors.values():
                self.message_user(request, " ".join(errors), messages.ERROR)
            return HttpResponseRedirect(account_url)
        try:
            allocations = payment_allocate(
                partner=partner, by=request.user, allocate_to=form.allocate_to()
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            applied = sum(allocation.amount for allocation in allocations)
            self.message_user(request, _("%(amount)s EUR of credit applied.") % {"amount": applied})
        return HttpResponseRedirect(account_url)

    def statement_view(self, request, partner_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        partner = get_object_or_404(Partner.objects.select_related("user"), pk=partner_id)
        date_from, date_to = PeriodForm(request.GET or None).period()
        response = HttpResponse(
            account_statement_pdf(partner, date_from, date_to), content_type="application/pdf"
        )
        filename = statement_filename(partner, date_from, date_to)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def statements_zip_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        date_from, date_to = PeriodForm(request.GET or None).period()
        response = HttpResponse(statements_zip(date_from, date_to), content_type="application/zip")
        name = f"statements-{date_from or 'start'}-{date_to or timezone.localdate()}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def receivables_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._page(
            request,
            "admin/operations/billing/receivables.html",
            {"title": _("Receivables"), "receivables": receivables(), "period": PeriodForm()},
        )

    # -- list and export -------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["export_url"] = reverse("admin:operations_payment_export")
        extra_context["receivables_url"] = reverse("admin:operations_payment_receivables")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_cancel"] = self._can(request, "change")
        return super().change_view(request, object_id, form_url, extra_context)

    def export_view(self, request):
        """The payments the changelist shows, one row each, for the accountant."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return redirect("admin:operations_payment_changelist")
        return payments_csv(changelist.queryset)


def payments_csv(payments):
    header = [
        _("Payment"),
        _("Received on"),
        _("Partner"),
        _("Amount"),
        _("Method"),
        _("Reference"),
        _("Not applied"),
        _("State"),
        _("Recorded by"),
        _("Recorded at"),
        _("Cancelled at"),
        _("Reason for cancelling"),
    ]

    def rows():
        for payment in payments.select_related("partner", "recorded_by").iterator(chunk_size=2000):
            yield [
                payment.pk,
                payment.received_on.isoformat(),
                payment.partner.store_name,
                payment.amount,
                payment.get_method_display(),
                payment.reference,
                "" if payment.is_cancelled else payment.unallocated,
                _("Cancelled") if payment.is_cancelled else _("Valid"),
                payment.recorded_by.email if payment.recorded_by_id else "",
                timezone.localtime(payment.recorded_at).isoformat(timespec="minutes"),
                timezone.localtime(payment.cancelled_at).isoformat(timespec="minutes")
                if payment.cancelled_at
                else "",
                payment.cancel_reason,
            ]

    filename = f"payments-{timezone.localdate().isoformat()}.csv"
    return csv_response(filename=filename, header=header, rows=rows())
