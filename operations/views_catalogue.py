"""The catalogue as a partner sees it: books, the copies it holds, and its order draft."""

from django.core.paginator import Paginator
from django.views.decorators.http import require_GET

from accounts.decorators import partner_required
from catalog.forms import BookSearchForm
from catalog.selectors import book_search
from operations.forms import OrderDraft
from operations.selectors import ordering_state, stock_quantities_for_partner
from toplivres.rendering import render_page

PAGE_SIZE = 20


@partner_required
@require_GET
def catalogue(request):
    """The catalogue: search, filter by series, page; copies held and "add to order"."""
    partner = request.partner
    form = BookSearchForm(request.GET or None)
    query, series = "", None
    if form.is_valid():
        query, series = form.cleaned_data["q"], form.cleaned_data["series"]
    books = book_search(query=query, series_id=series.pk if series else None, active_only=True)
    page = Paginator(books, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "held": stock_quantities_for_partner(partner=partner),
        "state": ordering_state(partner=partner),
        "in_draft": OrderDraft(request.session, partner=partner).lines,
    }
    partial = "results" if request.htmx and request.htmx.target == "catalogue-results" else None
    return render_page(request, "catalog/book_list.html", context, partial=partial)
