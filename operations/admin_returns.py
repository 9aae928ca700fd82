"""Returns in the back office: receipt, refusal, cancellation of a recall, a recall from a
partner's page and a bulk recall of one title from every partner who holds it.

Every step calls operations.returns. `ReturnsAdminMixin` adds the returns' pages to the
OperationAdmin of operations/admin/operations.py, which mixes it in (this module imports
nothing from it, so that the import graph keeps no cycle).
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Partner
from catalog.models import Book
from operations.models import Operation, Status, StockBalance
from operations.returns import (
    Receipt,
    return_bulk_recall,
    return_cancel,
    return_recall,
    return_receive,
    return_refuse,
)
from operations.services import Line

MAX_COPIES = 9999


class ReceiptForm(forms.Form):
    """Per line of the return: copies received, and of them damaged."""

    admin_note = forms.CharField(
        label=gettext_lazy("Admin note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"received_{item.book_id}"] = forms.IntegerField(
                label=_("%(title)s: copies received (of %(copies)s)")
                % {"title": item.book.title, "copies": item.requested},
                min_value=0,
                max_value=item.requested,
                initial=item.requested,
            )
            self.fields[f"damaged_{item.book_id}"] = forms.IntegerField(
                label=_("%(title)s: of them damaged") % {"title": item.book.title},
                min_value=0,
                max_value=item.requested,
                initial=0,
            )

    def clean(self):
        data = super().clean()
        for item in self.items:
            received = data.get(f"received_{item.book_id}")
            damaged = data.get(f"damaged_{item.book_id}")
            if received is not None and damaged is not None and damaged > received:
                self.add_error(
                    f"damaged_{item.book_id}",
                    _("Damaged copies are among the copies received: at most %(n)s.")
                    % {"n": received},
                )
        return data

    def receipts(self) -> list[Receipt]:
        data = self.cleaned_data
        return [
            Receipt(
                book_id=item.book_id,
                received=data[f"received_{item.book_id}"],
                damaged=data[f"damaged_{item.book_id}"],
            )
            for item in self.items
        ]


class RecallForm(forms.Form):
    """Copies to recall per title the partner holds (free copies only)."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("The partner sees it."),
    )

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            free = row.stock.free
            self.fields[f"copies_{row.book_id}"] = forms.IntegerField(
                label=_("%(title)s (%(free)s free of %(held)s held)")
                % {"title": row.book.title, "free": free, "held": row.quantity},
                min_value=0,
                max_value=MAX_COPIES,
                required=False,
            )

    def clean(self):
        data = super().clean()
        if not self.errors and not self.lines():
            raise ValidationError(_("Name at least one title and its copies."))
        return data

    def lines(self) -> list[Line]:
        return [
            Line(book_id=row.book_id, copies=copies)
            for row in self.rows
            if (copies := self.cleaned_data.get(f"copies_{row.book_id}"))
        ]


class BulkRecallForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("The partners see it (e.g. a retired edition)."),
    )


class ReturnsAdminMixin:
    """The returns' part of OperationAdmin (mixed in before ModelAdmin)."""

    RETURN_REASON_STEPS = {
        "refuse": {
            "to": Status.REFUSED,
            "title": gettext_lazy("Refuse returns"),
            "intro": gettext_lazy(
                "The partner sees the reason and keeps the copies. Refused returns stay in history."
            ),
            "button": gettext_lazy("Refuse"),
            "done": lambda n: (
                ngettext("%(count)d return refused.", "%(count)d returns refused.", n)
                % {"count": n}
            ),
        },
    }

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.is_return:
            return fieldsets
        return [
            *fieldsets,
            (
                gettext_lazy("Return"),
                {
                    "fields": [
                        ("shipped_at", "shipped_by"),
                        "carrier_reference",
                        ("received_at", "received_by"),
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "shipped_at",
            "shipped_by",
            "carrier_reference",
            "received_at",
            "received_by",
        ]

    def _return_reason_service(self, request, step):
        assert step == "refuse"
        return lambda op, reason: return_refuse(ret=op, by=request.user, reason=reason)

    @admin.action(description=gettext_lazy("Refuse the selected returns…"))
    def refuse_returns(self, request, queryset):
        return self._reason_step(request, queryset, "refuse")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/refuse/",
                wrap(partial(self.transition_view, step="refuse")),
                name="operations_operation_refuse",
            ),
            path(
                "<path:object_id>/receive/",
                wrap(self.receive_view),
                name="operations_operation_receive",
            ),
            path(
                "<path:object_id>/cancel-return/",
                wrap(self.cancel_return_view),
                name="operations_operation_cancel_return",
            ),
            path(
                "recall/partner/<int:partner_id>/",
                wrap(self.recall_view),
                name="operations_recall",
            ),
            path(
                "recall/book/<int:book_id>/",
                wrap(self.bulk_recall_view),
                name="operations_bulk_recall",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        operation = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if operation is not None and operation.is_return:
            extra_context["return_desk"] = {
                "receive": operation.can_become(Status.RECEIVED),
                "refuse": operation.can_become(Status.REFUSED),
                "cancel": operation.status == Status.RECALLED,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _return_or_404(self, request, object_id) -> Operation:
        operation = self.get_object(request, object_id)
        if operation is None or not operation.is_return:
            raise Http404
        if not self.has_change_permission(request, operation):
            raise PermissionDenied
        return operation

    def receive_view(self, request, object_id):
        ret = self._return_or_404(request, object_id)
        change_url = reverse("admin:operations_operation_change", args=[ret.pk])
        items = list(ret.items.select_related("book").order_by("book__title"))
        form = ReceiptForm(request.POST or None, items=items)
        if request.method == "POST" and form.is_valid():
            try:
                return_receive(
                    ret=ret,
                    by=request.user,
                    receipts=form.receipts(),
                    admin_note=form.cleaned_data["admin_note"] or None,
                )
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request, _("%(ref)s received: the stock is updated.") % {"ref": ret.reference}
                )
            return HttpResponseRedirect(change_url)
        return self._form_page(
            request,
            form=form,
            title=_("Receive the return %(ref)s") % {"ref": ret.reference},
            intro=_(
                "Enter the copies found in the parcel. Copies missing stay the partner's stock; "
                "damaged copies are received and the damage is recorded."
            ),
            button=_("Receive"),
            back=change_url,
        )

    def cancel_return_view(self, request, object_id):
        ret = self._return_or_404(request, object_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            return_cancel(ret=ret, by=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("%(ref)s cancelled.") % {"ref": ret.reference})
        return HttpResponseRedirect(reverse("admin:operations_operation_change", args=[ret.pk]))

    def recall_view(self, request, partner_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        partner = get_object_or_404(Partner, pk=partner_id)
        rows = list(
            StockBalance.objects.held()
            .filter(partner=partner)
            .select_related("book")
            .order_by("book__title")
        )
        partner_url = reverse("admin:accounts_partner_change", args=[partner.pk])
        form = RecallForm(request.POST or None, rows=rows)
        if request.method == "POST" and form.is_valid():
            try:
                ret = return_recall(
                    partner=partner,
                    lines=form.lines(),
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    _("%(ref)s: copies recalled from %(partner)s.")
                    % {"ref": ret.reference, "partner": partner},
                )
                return HttpResponseRedirect(
                    reverse("admin:operations_operation_change", args=[ret.pk])
                )
        return self._form_page(
            request,
            form=form,
            title=_("Recall copies from %(partner)s") % {"partner": partner},
            intro=_(
                "Name the copies to send back. They are set aside in the partner's stock until "
                "the parcel is received."
            ),
            button=_("Recall"),
            back=partner_url,
        )

    def bulk_recall_view(self, request, book_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        book = get_object_or_404(Book, pk=book_id)
        holders = (
            StockBalance.objects.held()
            .filter(book=book)
            .select_related("partner")
            .order_by("partner__store_name")
        )
        form = BulkRecallForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            result = return_bulk_recall(
                book=book, by=request.user, reason=form.cleaned_data["reason"]
            )
            n = len(result.recalled)
            self.message_user(
                request,
                ngettext(
                    "%(title)s recalled from %(count)d partner.",
                    "%(title)s recalled from %(count)d partners.",
                    n,
                )
                % {"title": book.title, "count": n},
            )
            for partner, why in result.skipped:
                self.message_user(
                    request,
                    _("%(partner)s left out: %(why)s") % {"partner": partner, "why": why},
                    messages.WARNING,
                )
            return HttpResponseRedirect(
                reverse("admin:operations_operation_changelist")
                + "?kind__exact=return&status__exact=recalled"
            )
        return self._form_page(
            request,
            form=form,
            title=_("Recall %(title)s from every partner") % {"title": book.title},
            intro=_(
                "Every copy that a partner holds and no open return sets aside is recalled: one "
                "return per partner."
            ),
            button=_("Recall from every partner"),
            back=reverse("admin:catalog_book_change", args=[book.pk]),
            objects=[
                _("%(partner)s: %(free)s of %(held)s copies free")
                % {
                    "partner": row.partner,
                    "free": row.stock.free,
                    "held": row.quantity,
                }
                for row in holders
            ],
        )

    def _form_page(self, request, *, form, title, intro, button, back, objects=()):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "button": button,
            "form": form,
            "back": back,
            "objects": objects,
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/operations/operation/return_form.html", context)
