"""The PDF of an invoice or credit note: PDF/A-3 with its Factur-X XML embedded.

A pure function of the document's frozen rows (never today's partner, book or settings),
in the buyer's language: the same document gives the same text and XML every time.
Rendered on demand (portal, admin, e-mail), never inside a database transaction.
"""

import hashlib

import facturx
from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import HTML

from operations.billing.facturx import PROFILE, document_xml
from operations.billing.models import BillingDocument


def legal_mentions(document: BillingDocument) -> dict[str, str]:
    """The document's legal mentions in the active language, by UNTDID 4451 subject code."""
    mentions = {}
    if document.is_invoice:
        mentions["PMD"] = _(
            "Payment due by %(due)s (%(days)s days). Late payment: penalties at %(rate)s%% a "
            "year from the day after the due date, and a fixed indemnity of %(indemnity)s EUR "
            "for recovery costs (Code de commerce, art. L441-10 and D441-5)."
        ) % {
            "due": document.due_date.strftime("%d/%m/%Y"),
            "days": document.payment_terms_days,
            "rate": f"{document.late_penalty_rate:.2f}",
            "indemnity": f"{document.recovery_indemnity:.2f}",
        }
        mentions["AAB"] = _("No discount for early payment.")
    else:
        mentions["REG"] = _(
            "Cancels invoice %(invoice)s of %(date)s in full: sales report %(ref)s was voided."
        ) % {
            "invoice": document.credited_invoice.number,
            "date": document.credited_invoice.issue_date.strftime("%d/%m/%Y"),
            "ref": document.report.reference,
        }
    mentions["AAI"] = _(
        "Consignment (dépôt-vente): copies sold by the bookstore, billed at the retail price "
        "less its commission of %(rate)s%%."
    ) % {"rate": f"{document.commission_rate:.2f}"}
    if document.vat_exempt:
        mentions["TXD"] = document.seller_vat_exempt_mention
    return mentions


def document_html(document: BillingDocument) -> str:
    with translation.override(document.language):
        context = {
            "document": document,
            "lines": list(document.lines.order_by("position")),
            "mentions": legal_mentions(document),
        }
        return render_to_string("operations/billing/document_pdf.html", context)


def document_facturx_xml(document: BillingDocument) -> bytes:
    with translation.override(document.language):
        return document_xml(document, notes=legal_mentions(document))


def document_pdf(document: BillingDocument) -> bytes:
    """The Factur-X PDF (PDF/A-3b) of `document`."""
    html = document_html(document)
    # A stable identifier, so that two renderings of one document differ in nothing but dates.
    identifier = hashlib.sha256(document.number.encode()).hexdigest()[:32].encode()
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        pdf_variant="pdf/a-3b", pdf_identifier=identifier
    )
    with translation.override(document.language):
        title = (
            _("Credit note %(number)s") if document.is_credit_note else _("Invoice %(number)s")
        ) % {"number": document.number}
    return facturx.generate_from_binary(
        pdf,
        document_facturx_xml(document),
        flavor="factur-x",
        level=PROFILE,
        check_xsd=True,
        pdf_metadata={
            "author": document.seller_name,
            "keywords": "Factur-X",
            "title": title,
            "subject": title,
        },
        lang=document.language,
    )


def pdf_response(document: BillingDocument, *, download: bool = True) -> HttpResponse:
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    return response
