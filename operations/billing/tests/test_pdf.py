"""The PDF: readable text, PDF/A-3 with Factur-X XML that passes the XSD and matches the rows."""

import io
from decimal import Decimal

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from operations.billing.facturx import NS
from operations.billing.pdf import document_facturx_xml, document_pdf
from operations.billing.tests.factories import credited_report, invoiced_report

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def embedded_xml(pdf: bytes) -> bytes:
    filename, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(pdf), check_xsd=True)
    assert filename == "factur-x.xml"
    return xml


def find(xml: bytes, path: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.fixture
def invoice(partner):
    partner.user.language = "en"
    partner.user.save()
    return invoiced_report(partner, ("9.99", 3), ("12.45", 7))[1]


def test_the_pdf_text_has_the_number_the_parties_the_totals_and_the_mentions(invoice):
    text = pdf_text(document_pdf(invoice))
    assert f"Invoice {invoice.number}" in text
    assert invoice.seller_name in text and "SIREN 123456789" in text
    assert invoice.buyer_name in text
    for line in invoice.lines.all():
        assert line.isbn in text
    assert f"€{invoice.total_incl_vat}" in text
    assert f"€{invoice.total_vat}" in text
    assert "fixed indemnity of 40.00 EUR for recovery costs" in text
    assert "penalties at 12.00% a year" in text
    assert "No discount for early payment" in text


def test_the_pdf_follows_the_buyers_language(partner):
    partner.user.language = "fr"
    partner.user.save()
    _report, invoice = invoiced_report(partner, ("10.00", 1))
    text = pdf_text(document_pdf(invoice))
    assert f"Facture {invoice.number}" in text
    assert "indemnité forfaitaire de 40.00 EUR pour frais de recouvrement" in text
    assert "6,50\xa0€" in text or "6,50 €" in text


def test_the_pdf_is_pdf_a_3_and_its_xml_passes_the_xsd(invoice):
    pdf = document_pdf(invoice)
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert "<pdfaid:part>3</pdfaid:part>" in str(
        reader.trailer["/Root"]["/Metadata"].get_object().get_data(), "utf-8"
    )
    xml = embedded_xml(pdf)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"


def test_the_xml_amounts_are_the_invoice_rows(invoice):
    xml = embedded_xml(document_pdf(invoice))
    assert find(xml, "//rsm:ExchangedDocument/ram:ID") == [invoice.number]
    assert find(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    assert find(xml, totals + "ram:LineTotalAmount") == [str(invoice.total_excl_vat)]
    assert find(xml, totals + "ram:TaxBasisTotalAmount") == [str(invoice.total_excl_vat)]
    assert find(xml, totals + "ram:TaxTotalAmount") == [str(invoice.total_vat)]
    assert find(xml, totals + "ram:GrandTotalAmount") == [str(invoice.total_incl_vat)]
    assert find(xml, totals + "ram:DuePayableAmount") == [str(invoice.total_incl_vat)]
    lines = list(invoice.lines.order_by("position"))
    assert find(xml, "//ram:SpecifiedTradeProduct/ram:GlobalID") == [line.isbn for line in lines]
    assert find(xml, "//ram:SpecifiedLineTradeDelivery/ram:BilledQuantity") == [
        str(line.copies) for line in lines
    ]
    assert [Decimal(v) for v in find(xml, "//ram:LineTotalAmount")[:-1]] == [
        line.net_excl_vat for line in lines
    ]
    assert find(xml, "//ram:DueDateDateTime/udt:DateTimeString") == [
        invoice.due_date.strftime("%Y%m%d")
    ]
    assert find(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        invoice.seller_vat_number
    ]


def test_a_credit_note_is_type_381_and_references_its_invoice(partner, admin_user):
    _report, invoice, credit_note = credited_report(partner, admin_user, ("10.00", 2))
    pdf = document_pdf(credit_note)
    text = pdf_text(pdf)
    assert credit_note.number in text and invoice.number in text
    xml = embedded_xml(pdf)
    assert find(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert find(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [invoice.number]
    assert find(xml, "//ram:GrandTotalAmount") == [str(invoice.total_incl_vat)]


def test_a_vat_exempt_invoice_carries_category_e_and_the_mention(partner, settings):
    settings.SELLER_VAT_NUMBER = ""
    settings.SELLER_VAT_EXEMPT_MENTION = "TVA non applicable, art. 293 B du CGI"
    _report, invoice = invoiced_report(partner, ("10.00", 1))
    pdf = document_pdf(invoice)
    assert "art. 293 B du CGI" in pdf_text(pdf)
    xml = embedded_xml(pdf)
    assert set(find(xml, "//ram:CategoryCode")) == {"E"}
    assert find(xml, "//ram:ExemptionReason") == [settings.SELLER_VAT_EXEMPT_MENTION]


def test_the_same_invoice_renders_the_same_content_every_time(invoice, partner, settings):
    first_pdf, first_xml = document_pdf(invoice), document_facturx_xml(invoice)
    partner.store_name = "Renamed"
    partner.save()
    settings.SELLER_NAME = "Someone else"
    settings.BOOK_VAT_RATE = Decimal("20")
    second_pdf = document_pdf(invoice)
    assert document_facturx_xml(invoice) == first_xml
    assert pdf_text(second_pdf) == pdf_text(first_pdf)
    assert embedded_xml(second_pdf) == embedded_xml(first_pdf)
