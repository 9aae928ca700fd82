"""The partner's returns: the return form (from the stock page), the return's page with
its history, "Parcel shipped", cancel while not shipped, and a packing slip to print."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import partner_required
from operations.forms_returns import ReturnForm, ShipForm
from operations.models import Status
from operations.returns import return_cancel, return_request, return_ship
from operations.selectors import operation_items, return_candidates, return_get_for_partner
from toplivres.rendering import render_page


@partner_required
@require_http_methods(["GET", "POST"])
def return_new(request):
    partner = request.partner
    months = settings.RETURN_SUGGEST_MONTHS
    rows = return_candidates(partner=partner, months=months)
    form = ReturnForm(request.POST if request.method == "POST" else None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            ret = return_request(
                partner=partner,
                lines=form.service_lines(),
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _(
                    "Return %(ref)s requested: its copies are set aside. Pack them, send the "
                    "parcel, then confirm it here."
                )
                % {"ref": ret.reference},
            )
            return redirect("operations:return_detail", pk=ret.pk)
    context = {"form": form, "months": months, "has_suggestions": any(r["suggested"] for r in rows)}
    return render_page(request, "operations/return_form.html", context)


def _return_context(ret):
    items = list(operation_items(operation=ret))
    return {
        "operation": ret,
        "items": items,
        "copies": sum(item.requested or 0 for item in items),
        "can_ship": ret.can_become(Status.SHIPPED),
        # A recall is withdrawn by the publisher, a request by the partner.
        "can_cancel": ret.status == Status.REQUESTED,
    }


@partner_required
@require_GET
def return_detail(request, pk):
    ret = return_get_for_partner(partner=request.partner, pk=pk)
    context = _return_context(ret)
    context["ship_form"] = ShipForm()
    return render(request, "operations/return_detail.html", context)


@partner_required
@require_POST
def return_ship_view(request, pk):
    ret = return_get_for_partner(partner=request.partner, pk=pk)
    form = ShipForm(request.POST)
    if not form.is_valid():
        context = {**_return_context(ret), "ship_form": form}
        return render(request, "operations/return_detail.html", context, status=422)
    try:
        return_ship(
            ret=ret, by=request.user, carrier_reference=form.cleaned_data["carrier_reference"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Return %(ref)s shipped: the publisher will check the parcel.")
            % {"ref": ret.reference},
        )
    return redirect("operations:return_detail", pk=ret.pk)


@partner_required
@require_POST
def return_cancel_view(request, pk):
    ret = return_get_for_partner(partner=request.partner, pk=pk)
    try:
        return_cancel(ret=ret, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Return %(ref)s cancelled: its copies are yours to sell again.")
            % {"ref": ret.reference},
        )
    return redirect(reverse("operations:return_detail", args=[ret.pk]))


@partner_required
@require_GET
def return_slip(request, pk):
    """A packing slip to print and put in the parcel."""
    ret = return_get_for_partner(partner=request.partner, pk=pk)
    return render(request, "operations/return_slip.html", _return_context(ret))
