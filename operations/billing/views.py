"""The partner's invoices and credit notes on the portal: list, one document, its PDF."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import partner_required
from operations.billing.pdf import pdf_response
from operations.billing.selectors import (
    billed_money,
    document_get_for_partner,
    document_lines,
    documents_for_partner,
)

PAGE_SIZE = 20


@partner_required
@require_GET
def invoice_list(request):
    partner = request.partner
    page = Paginator(documents_for_partner(partner=partner), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "money": billed_money(partner=partner)}
    return render(request, "operations/billing/invoice_list.html", context)


@partner_required
@require_GET
def invoice_detail(request, pk):
    document = document_get_for_partner(partner=request.partner, pk=pk)
    context = {"document": document, "lines": list(document_lines(document=document))}
    return render(request, "operations/billing/invoice_detail.html", context)


@partner_required
@require_GET
def invoice_pdf(request, pk):
    document = document_get_for_partner(partner=request.partner, pk=pk)
    return pdf_response(document, download=request.GET.get("inline") != "1")
