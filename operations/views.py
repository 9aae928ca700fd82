"""The partner portal: thin views over the selectors and services of `operations`."""

import hashlib
import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import partner_required
from catalog.selectors import book_search
from operations.billing.account import AccountSummary, open_invoices
from operations.billing.selectors import (
    documents_by_report,
    documents_for_report,
)
from operations.billing.views_account import bank_details
from operations.forms import (
    AddLineForm,
    HistoryFilter,
    OrderDraft,
    StockFilterForm,
    order_lines_form,
)
from operations.models import Status
from operations.selectors import (
    cents,
    notifications_for,
    open_returns_for_partner,
    operation_get_for_partner,
    operation_history_for_partner,
    operation_items,
    ordering_state,
    partner_moment,
    partner_overview,
    return_shortfalls_for_partner,
    stock_for_partner,
    stock_search_for_partner,
    stock_totals,
    unread_notices,
)
from operations.services import (
    notification_mark_read,
    order_cancel,
    order_place,
    transition_refusal,
)
from toplivres.csv import table_response
from toplivres.rendering import render_page

PAGE_SIZE = 20
DASHBOARD_NOTICES = 3
SEARCH_RESULTS = 20


# A polled fragment carries the version it was rendered at (`?v=` in its hx-get); a poll
# that finds nothing new answers 204, which htmx does not swap, so the buttons inside keep
# the keyboard focus. The version is a hash of the fragment without its CSRF tokens (which
# change at each rendering).
POLL_MARK = "__poll_version__"
_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def _poll_version(fragment: str) -> str:
    return hashlib.sha256(_CSRF_INPUT.sub("", fragment).encode()).hexdigest()[:16]


def render_polled(request, template, context, *, partial):
    """render_page for a page with a polled fragment `partial`."""
    fragment = render_to_string(f"{template}#{partial}", context, request)
    version = _poll_version(fragment)
    if request.htmx and request.GET.get("v") == version:
        response = HttpResponse(status=204)
    else:
        html = fragment if request.htmx else render_to_string(template, context, request)
        response = HttpResponse(html.replace(POLL_MARK, version))
    patch_vary_headers(response, ("HX-Request",))
    return response


def _redirect(request, url):
    """Post/redirect/get; under htmx, tell the browser to go there."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _safe_next(request, default):
    """A `next` path on this site, else `default`. Only a path starting with "/" is taken:
    anything else ("abc", "0") would be read by redirect() as a view name to reverse."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# -- dashboard -----------------------------------------------------------------------------


def _dashboard_context(request):
    """Everything the dashboard shows, in a constant handful of queries."""
    partner = request.partner
    moment = partner_moment(partner=partner)
    notices, unread_count = unread_notices(user=request.user, limit=DASHBOARD_NOTICES)
    figures, totals = partner_overview(partner=partner)
    return {
        "partner": partner,
        "recalls": moment.recalls,
        "state": moment.state,
        "latest_order": moment.latest_order,
        "figures": figures,
        "last_report": moment.last_report,
        "notices": notices,
        "unread_count": unread_count,
        "poll_seconds": settings.PORTAL_POLL_SECONDS,
        # Billing: the balance, what is overdue and how to pay.
        "money": AccountSummary(
            totals=totals, open_invoices=open_invoices(partner=partner), today=timezone.localdate()
        ),
        "bank": bank_details(),
    }


@partner_required
@require_GET
def dashboard(request):
    return render_polled(
        request, "operations/dashboard.html", _dashboard_context(request), partial="live"
    )


@partner_required
@require_POST
def notification_read(request, pk):
    notice = get_object_or_404(notifications_for(user=request.user), pk=pk)
    notification_mark_read(user=request.user, pk=notice.pk)
    if request.htmx:
        return render_polled(
            request, "operations/dashboard.html", _dashboard_context(request), partial="live"
        )
    return redirect("operations:dashboard")


@partner_required
@require_POST
def notifications_read_all(request):
    notification_mark_read(user=request.user)
    if request.htmx:
        return render_polled(
            request, "operations/dashboard.html", _dashboard_context(request), partial="live"
        )
    return redirect("operations:dashboard")


# -- new order -------------------------------------------------------------------------------


def _draft_books(draft):
    books = {book.pk: book for book in book_search().filter(pk__in=list(draft.lines))}
    draft.keep_only(books)
    return books


def _order_page(
    request, *, draft, books, form=None, add_form=None, added_book=None, partial=None, status=200
):
    query = (request.GET.get("q") or "")[:200].strip()
    results = list(book_search(query=query, active_only=True)[:SEARCH_RESULTS]) if query else []
    form = form or order_lines_form(None, draft=draft, books_by_id=books)
    context = {
        "form": form,
        "add_form": add_form,
        "query": query,
        "results": results,
        "in_draft": draft.lines,
        "added_book": added_book,
        "max_copies": settings.MAX_ITEM_QUANTITY,
    }
    return render_page(
        request, "operations/order_form.html", context, partial=partial, status=status
    )


def _refuse_if_ordering_blocked(request, partner):
    """None while the partner may order; else back to the order page, which says why."""
    state = ordering_state(partner=partner)
    if state.can_order:
        return None
    messages.error(request, state.reason)
    return _redirect(request, reverse("operations:order_new"))


def _order_blocked(request, state, *, status=200):
    return render(request, "operations/order_blocked.html", {"state": state}, status=status)


@partner_required
@require_http_methods(["GET", "POST"])
def order_new(request):
    """GET: the draft and a book search. POST: place the order."""
    partner = request.partner
    state = ordering_state(partner=partner)
    if not state.can_order:
        if request.method == "POST":
            messages.error(request, state.reason)
            return _redirect(request, reverse("operations:order_new"))
        return _order_blocked(request, state)
    draft = OrderDraft(request.session, partner=partner)
    books = _draft_books(draft)
    if request.method == "GET":
        partial = "results" if request.htmx and request.htmx.target == "book-results" else None
        return _order_page(request, draft=draft, books=books, partial=partial)

    form = order_lines_form(request.POST, draft=draft, books_by_id=books)
    if form.is_valid():
        for book_id, copies in form.copies_by_book().items():
            draft.set(book_id, copies)
        draft.note = form.cleaned_data["note"]
        draft.save()
        if not form.service_lines():
            form.add_error(None, _("Add at least one book to your order."))
        else:
            try:
                order = order_place(
                    partner=partner,
                    lines=form.service_lines(),
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                draft.clear()
                messages.success(
                    request,
                    _("Order %(ref)s sent. We will tell you when it is approved.")
                    % {"ref": order.reference},
                )
                return _redirect(request, reverse("operations:order_detail", args=[order.pk]))
    partial = "lines" if request.htmx else None
    return _order_page(request, draft=draft, books=books, form=form, partial=partial)


@partner_required
@require_POST
def order_add(request):
    """Add copies of a book to the draft (merged with a line of the same book)."""
    partner = request.partner
    if blocked := _refuse_if_ordering_blocked(request, partner):
        return blocked
    draft = OrderDraft(request.session, partner=partner)
    add_form = AddLineForm(request.POST, draft=draft)
    from_catalogue = request.POST.get("from") == "catalogue"
    if add_form.is_valid():
        book = add_form.book_obj
        draft.add(book.pk, add_form.cleaned_data["copies"])
        draft.save()
        if request.htmx and from_catalogue:
            return render(
                request,
                "catalog/book_list.html#added",
                {"book": book, "in_draft": draft.lines},
            )
        if not request.htmx:
            messages.success(
                request,
                _("%(title)s: %(copies)s in your order.")
                % {"title": book.title, "copies": draft.lines[book.pk]},
            )
            return HttpResponseRedirect(_safe_next(request, reverse("operations:order_new")))
    elif not request.htmx:
        for errors in add_form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(_safe_next(request, reverse("operations:order_new")))
    elif from_catalogue:
        return render(
            request,
            "catalog/book_list.html#added",
            # 200, not 422: htmx 2 does not swap an error status, so the message would not show.
            {"book": None, "add_form": add_form},
        )
    books = _draft_books(draft)
    added_book = add_form.book_obj if add_form.is_valid() else None
    return _order_page(
        request,
        draft=draft,
        books=books,
        add_form=add_form,
        added_book=added_book,
        partial="lines",
    )


@partner_required
@require_POST
def order_update(request):
    """Save the draft's quantities and note; `remove` drops one line."""
    partner = request.partner
    if blocked := _refuse_if_ordering_blocked(request, partner):
        return blocked
    draft = OrderDraft(request.session, partner=partner)
    books = _draft_books(draft)
    form = order_lines_form(request.POST, draft=draft, books_by_id=books)
    remove = request.POST.get("remove", "")
    if remove.isdigit() and int(remove) in draft.lines:
        draft.remove(int(remove))
        draft.save()
        form = order_lines_form(request.POST, draft=draft, books_by_id=books)
    if form.is_valid():
        for book_id, copies in form.copies_by_book().items():
            draft.set(book_id, copies)
        draft.note = form.cleaned_data["note"]
        draft.save()
        if not request.htmx:
            return redirect("operations:order_new")
        form = order_lines_form(None, draft=draft, books_by_id=books)
    partial = "lines" if request.htmx else None
    return _order_page(request, draft=draft, books=books, form=form, partial=partial)


# -- one order, one report ---------------------------------------------------------------------


def _operation_context(operation):
    items = list(operation_items(operation=operation))
    copies = sum(item.copies for item in items)
    amount = sum((item.amount for item in items), 0)
    return {"operation": operation, "items": items, "copies": copies, "amount": amount}


def _get_order(request, pk):
    order = operation_get_for_partner(partner=request.partner, pk=pk)
    if not order.is_order:
        raise Http404
    return order


@partner_required
@require_GET
def order_detail(request, pk):
    order = _get_order(request, pk)
    context = _operation_context(order)
    context["poll_seconds"] = settings.PORTAL_POLL_SECONDS
    return render_polled(request, "operations/order_detail.html", context, partial="status")


@partner_required
@require_http_methods(["GET", "POST"])
def order_cancel_view(request, pk):
    """GET asks for confirmation; POST cancels a pending order."""
    order = _get_order(request, pk)
    detail_url = reverse("operations:order_detail", args=[order.pk])
    if request.method == "GET":
        if not order.is_cancellable:
            messages.info(request, transition_refusal(order, Status.CANCELLED))
            return redirect(detail_url)
        return render(request, "operations/order_cancel.html", _operation_context(order))
    try:
        order_cancel(order=order, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Order %(ref)s cancelled.") % {"ref": order.reference})
    return _redirect(request, detail_url)


@partner_required
@require_GET
def report_detail(request, pk):
    report = operation_get_for_partner(partner=request.partner, pk=pk)
    if not report.is_report:
        raise Http404
    context = _operation_context(report)
    due = report.amount_due(cents(context["amount"]))
    context.update(commission=cents(context["amount"]) - due, due=due)
    # Billing: the figures are the invoice's, so that the page and the paper agree.
    context["documents"] = documents = documents_for_report(report=report)
    if documents:
        invoice = documents[0]
        context.update(
            amount=invoice.total_gross,
            commission=invoice.total_commission,
            due=invoice.total_incl_vat,
        )
    return render(request, "operations/report_detail.html", context)


# -- history and stock -------------------------------------------------------------------------


@partner_required
@require_GET
def history(request):
    operations = operation_history_for_partner(partner=request.partner)
    filterset = HistoryFilter(request.GET or None, queryset=operations)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    partial = "results" if request.htmx and request.htmx.target == "history-results" else None
    context = {"filter": filterset, "page": page}
    context["documents"] = documents_by_report(report_ids=[op.pk for op in page if op.is_report])
    return render_page(request, "operations/history.html", context, partial=partial)


STOCK_PAGE_SIZE = 50


@partner_required
@require_GET
def stock(request):
    """The titles held, 50 a page: search, sort, and the fragment alone for htmx."""
    partner = request.partner
    form = StockFilterForm(request.GET or None)
    query, sort = form.values()
    rows = stock_search_for_partner(partner=partner, query=query, sort=sort)
    totals = stock_totals(partner=partner)
    paginator = Paginator(rows, STOCK_PAGE_SIZE)
    if not query:
        paginator.count = totals.titles  # the same rows: no second count
    page = paginator.get_page(request.GET.get("page"))
    missing = return_shortfalls_for_partner(
        partner=partner, book_ids=[row["book_id"] for row in page]
    )
    page.object_list = [{**row, "missing": missing.get(row["book_id"], [])} for row in page]
    context = {
        "form": form,
        "query": query,
        "sort": sort,
        "page": page,
        "rows": page.object_list,
        "totals": totals,
        "open_returns": open_returns_for_partner(partner=partner),
    }
    partial = "results" if request.htmx and request.htmx.target == "stock-results" else None
    # The sort menu sits outside the fragment: the fragment brings it along, out of band.
    context["oob"] = partial is not None
    return render_page(request, "operations/stock.html", context, partial=partial)


@partner_required
@require_GET
def stock_csv(request, fmt="csv"):
    partner = request.partner
    header = [
        _("ISBN"),
        _("Title"),
        _("Authors"),
        _("Series"),
        _("Copies"),
        _("Set aside for a return"),
        _("Unit price (EUR)"),
        _("Retail value (EUR)"),
        _("Last delivery"),
        _("Last sale"),
    ]

    def day(value):
        return timezone.localtime(value).date().isoformat() if value else ""

    rows = (
        [
            row["book__isbn"],
            row["book__title"],
            row["book__authors"],
            row["book__series__name"] or "",
            row["quantity"],
            row["reserved"],
            cents(row["book__price"]),
            cents(row["value"]),
            day(row["last_delivery_at"]),
            day(row["last_sale_at"]),
        ]
        for row in stock_for_partner(partner=partner)
    )
    stem = f"stock-{timezone.localdate().isoformat()}"
    return table_response(fmt=fmt, stem=stem, header=header, rows=rows)
