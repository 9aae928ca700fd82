"""Consignment statements in the back office: one partner's (page and PDF), and every
partner's as a zip of PDFs (mixed into OperationAdmin, before ModelAdmin)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner
from operations import clock
from operations.forms_statements import StatementPeriodForm
from operations.statements import (
    consignment_statement,
    consignment_statements_zip,
)
from operations.views_statements import pdf_download


def statement_partners():
    """Partners with a stock history: every one that ever held a copy."""
    return Partner.objects.filter(stock_balances__isnull=False).distinct().order_by("store_name")


class StatementsAdminMixin:
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "statements/partner/<int:partner_id>/",
                wrap(self.consignment_statement_view),
                name="operations_consignment_statement",
            ),
            path(
                "statements/partner/<int:partner_id>/pdf/",
                wrap(self.consignment_statement_view),
                {"pdf": True},
                name="operations_consignment_statement_pdf",
            ),
            path(
                "statements/all.zip",
                wrap(self.consignment_statements_zip_view),
                name="operations_consignment_statements_zip",
            ),
            *super().get_urls(),
        ]

    def _period_form(self, request) -> StatementPeriodForm:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return StatementPeriodForm(request.GET, today=timezone.localdate(clock.now()))

    def consignment_statement_view(self, request, partner_id, pdf=False):
        form = self._period_form(request)
        if not 0 < partner_id < 2**63:  # past the column's range: unknown, not an error
            raise Http404
        partner = get_object_or_404(Partner.objects.select_related("user"), pk=partner_id)
        date_from, date_to = form.period()
        statement = consignment_statement(partner=partner, date_from=date_from, date_to=date_to)
        if pdf and not (form.is_bound and not form.is_valid()):
            return pdf_download(statement)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Consignment statement: %(store)s") % {"store": partner.store_name},
            "opts": self.opts,
            "partner": partner,
            "form": form,
            "statement": statement,
            "query": request.GET.urlencode() if not form.errors else "",
        }
        status = 400 if pdf else 200
        return TemplateResponse(
            request, "admin/operations/consignment_statement.html", context, status=status
        )

    def consignment_statements_zip_view(self, request):
        form = self._period_form(request)
        date_from, date_to = form.period()
        if form.is_bound and not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Consignment statements of every partner"),
                "opts": self.opts,
                "form": form,
                "statement": None,
                "query": "",
            }
            return TemplateResponse(
                request, "admin/operations/consignment_statement.html", context, status=400
            )
        archive = consignment_statements_zip(statement_partners(), date_from, date_to)
        response = HttpResponse(archive, content_type="application/zip")
        name = f"etats-de-depot-{date_from.isoformat()}-{date_to.isoformat()}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
