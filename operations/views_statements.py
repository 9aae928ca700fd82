"""The partner's consignment statement (état de dépôt) on the portal: page and PDF."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import partner_required
from operations import clock
from operations.forms_statements import StatementPeriodForm
from operations.statements import consignment_statement, statement_pdf


def _statement(request):
    """The form and the statement of the request's partner (its own only)."""
    form = StatementPeriodForm(request.GET, today=timezone.localdate(clock.now()))
    date_from, date_to = form.period()
    statement = consignment_statement(partner=request.partner, date_from=date_from, date_to=date_to)
    return form, statement


@partner_required
@require_GET
def consignment_statement_view(request):
    form, statement = _statement(request)
    return render(
        request,
        "operations/consignment_statement.html",
        {"form": form, "statement": statement, "query": request.GET.urlencode()},
    )


@partner_required
@require_GET
def consignment_statement_pdf_view(request):
    form, statement = _statement(request)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "operations/consignment_statement.html",
            {"form": form, "statement": statement, "query": ""},
            status=400,
        )
    return pdf_download(statement)


def pdf_download(statement) -> HttpResponse:
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.filename}"'
    return response
