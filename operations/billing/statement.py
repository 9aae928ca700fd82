"""The statement of account (relevé de compte) of one partner over a period: opening
balance, each invoice, credit note and payment with the running balance, closing balance.

A page (portal and admin) and a PDF (WeasyPrint, A4, no Factur-X: it is not an invoice),
both from `operations.billing.account.account_lines`, so the PDF's closing balance is the
page's. Rendered in the partner's language, never inside a database transaction.
"""

import io
import zipfile
from datetime import date

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from weasyprint import HTML

from accounts.models import Partner
from operations.billing.account import account_lines


def seller() -> dict:
    return {
        "name": settings.SELLER_NAME,
        "address": settings.SELLER_ADDRESS,
        "postal_code": settings.SELLER_POSTAL_CODE,
        "city": settings.SELLER_CITY,
        "siren": settings.SELLER_SIREN,
        "email": settings.SELLER_EMAIL,
        "iban": settings.SELLER_IBAN,
        "bic": settings.SELLER_BIC,
        "bank_name": settings.SELLER_BANK_NAME,
    }


def statement_filename(partner, date_from: date | None, date_to: date | None) -> str:
    start = date_from.isoformat() if date_from else "start"
    end = (date_to or timezone.localdate()).isoformat()
    return f"statement-{slugify(partner.store_name) or partner.pk}-{start}-{end}.pdf"


def account_statement_html(partner, date_from: date | None, date_to: date | None) -> str:
    account = account_lines(partner, date_from, date_to)
    language = getattr(partner.user, "language", None) or settings.LANGUAGE_CODE
    with translation.override(language):
        return render_to_string(
            "operations/billing/statement_pdf.html",
            {
                "account": account,
                "partner": partner,
                "seller": seller(),
                "language": language,
                "printed_on": timezone.localdate(),
            },
        )


def account_statement_pdf(partner, date_from: date | None = None, date_to: date | None = None):
    """The statement of account of `partner` between the two dates (both included), as PDF
    bytes."""
    html = account_statement_html(partner, date_from, date_to)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def statements_zip(date_from: date | None, date_to: date | None, partners=None) -> bytes:
    """One statement PDF per partner (every partner with a document or payment by default),
    in one zip."""
    if partners is None:
        partners = Partner.objects.filter(
            Q(billing_documents__isnull=False) | Q(payments__isnull=False)
        ).distinct()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for partner in partners.select_related("user").order_by("store_name", "pk"):
            archive.writestr(
                statement_filename(partner, date_from, date_to),
                account_statement_pdf(partner, date_from, date_to),
            )
    return buffer.getvalue()
