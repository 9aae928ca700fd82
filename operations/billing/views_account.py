"""The partner's account on the portal: balance, invoices with what is still due, payments,
and the statement of account (page and PDF). A partner only ever sees its own: no id in
these URLs, everything is read from `request.partner`."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import partner_required
from operations.billing.account import (
    account_lines,
    account_summary,
    invoices_for_partner,
    payments_for_partner,
)
from operations.billing.forms import PeriodForm
from operations.billing.statement import account_statement_pdf, statement_filename

PAGE_SIZE = 20
PAYMENTS_SHOWN = 10


def bank_details() -> dict:
    """How to pay, from the settings (shown on the dashboard and the account page)."""
    return {
        "name": settings.SELLER_NAME,
        "iban": settings.SELLER_IBAN,
        "bic": settings.SELLER_BIC,
        "bank_name": settings.SELLER_BANK_NAME,
        "email": settings.SELLER_EMAIL,
    }


@partner_required
@require_GET
def billing_account(request):
    partner = request.partner
    page = Paginator(invoices_for_partner(partner=partner), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "summary": account_summary(partner=partner),
        "page": page,
        "payments": list(payments_for_partner(partner=partner)[:PAYMENTS_SHOWN]),
        "bank": bank_details(),
        "period": PeriodForm(),
    }
    return render(request, "operations/billing/account.html", context)


@partner_required
@require_GET
def account_statement(request):
    partner = request.partner
    period = PeriodForm(request.GET or None)
    date_from, date_to = period.period()
    context = {
        "period": period,
        "date_from": date_from,
        "date_to": date_to,
        "account": account_lines(partner, date_from, date_to),
    }
    return render(request, "operations/billing/statement.html", context)


@partner_required
@require_GET
def account_statement_pdf_view(request):
    partner = request.partner
    date_from, date_to = PeriodForm(request.GET or None).period()
    response = HttpResponse(
        account_statement_pdf(partner, date_from, date_to), content_type="application/pdf"
    )
    filename = statement_filename(partner, date_from, date_to)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
