"""The Factur-X XML of an invoice or credit note: UN/CEFACT CII, profile EN 16931 (COMFORT).

Built from the document's frozen rows only. Amounts are the rows' amounts, unchanged:

- each line's net price is its net amount excl. VAT for a basis quantity of all its copies,
  so that price x quantity / basis = line amount exactly, with no second rounding;
- the VAT breakdown sums the line VAT (money.py rounds VAT once per line); EN 16931's
  schematron accepts the one-cent differences this can give against basis x rate;
- a credit note has type code 381, the same positive amounts, and references its invoice.
"""

from decimal import Decimal

from lxml import etree

from operations.billing.models import BillingDocument

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
PROFILE = "en16931"
GUIDELINE_ID = "urn:cen.eu:en16931:2017"
TYPE_CODES = {"invoice": "380", "credit_note": "381"}
UNIT_CODE = "C62"  # one (piece)
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"


def _el(parent, tag, text=None, **attrs):
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", **attrs)
    if text is not None:
        element.text = str(text)
    return element


def _amount(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _rate(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def _date(parent, tag, day):
    wrapper = _el(parent, tag)
    _el(wrapper, "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _tax_category(document: BillingDocument) -> str:
    if document.vat_exempt:
        return "E"
    return "S" if document.vat_rate > 0 else "Z"


def document_xml(document: BillingDocument, *, notes: dict[str, str]) -> bytes:
    """The CII XML of `document`. `notes`: legal mentions by UNTDID 4451 subject code."""
    lines = list(document.lines.order_by("position"))
    category = _tax_category(document)
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)

    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE_ID)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", document.number)
    _el(header, "ram:TypeCode", TYPE_CODES[document.kind])
    _date(header, "ram:IssueDateTime", document.issue_date)
    for subject, content in notes.items():
        note = _el(header, "ram:IncludedNote")
        _el(note, "ram:Content", content)
        _el(note, "ram:SubjectCode", subject)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.position)
        product = _el(item, "ram:SpecifiedTradeProduct")
        _el(product, "ram:GlobalID", line.isbn, schemeID="0160")  # GS1 GTIN: the ISBN-13
        _el(product, "ram:Name", line.title)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        net_price = _el(agreement, "ram:NetPriceProductTradePrice")
        _el(net_price, "ram:ChargeAmount", _amount(line.net_excl_vat))
        _el(net_price, "ram:BasisQuantity", line.copies, unitCode=UNIT_CODE)
        delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
        _el(delivery, "ram:BilledQuantity", line.copies, unitCode=UNIT_CODE)
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", category)
        _el(tax, "ram:RateApplicablePercent", _rate(line.vat_rate))
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line.net_excl_vat))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _el(agreement, "ram:BuyerReference", document.report.reference)
    seller = _el(agreement, "ram:SellerTradeParty")
    _el(seller, "ram:Name", document.seller_name)
    legal = _el(seller, "ram:SpecifiedLegalOrganization")
    _el(legal, "ram:ID", document.seller_siren, schemeID="0002")  # SIREN
    _address(
        seller,
        document.seller_address,
        document.seller_postal_code,
        document.seller_city,
        document.seller_country,
    )
    if document.seller_email:
        uri = _el(seller, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", document.seller_email, schemeID="EM")
    if document.seller_vat_number:
        registration = _el(seller, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", document.seller_vat_number, schemeID="VA")
    buyer = _el(agreement, "ram:BuyerTradeParty")
    _el(buyer, "ram:Name", document.buyer_name)
    _address(
        buyer,
        document.buyer_address,
        document.buyer_postal_code,
        document.buyer_city,
        document.buyer_country,
    )
    if document.buyer_email:
        uri = _el(buyer, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", document.buyer_email, schemeID="EM")

    _el(transaction, "ram:ApplicableHeaderTradeDelivery")

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", document.currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    if document.seller_iban:
        _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", document.seller_iban.replace(" ", ""))
    else:
        _el(means, "ram:TypeCode", CREDIT_TRANSFER)
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:CalculatedAmount", _amount(document.total_vat))
    _el(tax, "ram:TypeCode", "VAT")
    if category == "E":
        _el(tax, "ram:ExemptionReason", document.seller_vat_exempt_mention)
    _el(tax, "ram:BasisAmount", _amount(document.total_excl_vat))
    _el(tax, "ram:CategoryCode", category)
    _el(tax, "ram:RateApplicablePercent", _rate(document.vat_rate))
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    if document.is_invoice:
        _el(terms, "ram:Description", notes.get("PMD", ""))
        _date(terms, "ram:DueDateDateTime", document.due_date)
    else:
        _el(terms, "ram:Description", notes.get("REG", ""))
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _amount(document.total_excl_vat))
    _el(totals, "ram:TaxBasisTotalAmount", _amount(document.total_excl_vat))
    _el(totals, "ram:TaxTotalAmount", _amount(document.total_vat), currencyID=document.currency)
    _el(totals, "ram:GrandTotalAmount", _amount(document.total_incl_vat))
    _el(totals, "ram:DuePayableAmount", _amount(document.total_incl_vat))
    if document.is_credit_note:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        invoice = document.credited_invoice
        _el(reference, "ram:IssuerAssignedID", invoice.number)
        formatted = _el(reference, "ram:FormattedIssueDateTime")
        _el(formatted, "qdt:DateTimeString", invoice.issue_date.strftime("%Y%m%d"), format="102")

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _address(party, line_one, postal_code, city, country):
    address = _el(party, "ram:PostalTradeAddress")
    if postal_code:
        _el(address, "ram:PostcodeCode", postal_code)
    if line_one:
        _el(address, "ram:LineOne", line_one)
    if city:
        _el(address, "ram:CityName", city)
    _el(address, "ram:CountryID", country or "FR")
