"""The sales report: three ways to fill one draft (title by title, ISBN scans, a till export),
one summary to check, and `report_submit` to record it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import partner_required
from operations.forms import ReportForm, report_form_token
from operations.forms_reports import (
    ReportDraft,
    ScanForm,
    TillImportForm,
    clean_draft_lines,
    draft_summary,
)
from operations.selectors import newest_report_pk, stock_rows_for_books, stock_search_for_partner
from operations.services import ReportAlreadySent, report_submit
from toplivres.rendering import render_page

TITLES_PER_PAGE = 50
TEMPLATE = "operations/report_form.html"
PENDING_IMPORT = "report_import:{}"


def _nav(data) -> tuple[str, str]:
    """The search and page of titles asked for (`goto`: a page button of the form)."""
    query = str(data.get("q") or "")[:200].replace("\x00", "").strip()
    page = str(data.get("goto") or data.get("page") or "1")[:12]
    return query, page


def _titles_url(query, page) -> str:
    params = {key: value for key, value in (("q", query), ("page", page)) if value}
    url = reverse("operations:report_new")
    return f"{url}?{urlencode(params)}" if params else url


def _token(partner) -> str:
    return report_form_token(partner=partner, newest_report_pk=newest_report_pk(partner=partner))


def _titles_context(partner, draft, *, query, page_number, form=None, shown=None):
    """The page of titles: a fresh form showing the draft's copies, or `form` (bound, with
    its errors) over the titles it was posted with."""
    page = Paginator(
        stock_search_for_partner(partner=partner, query=query), TITLES_PER_PAGE
    ).get_page(page_number)
    rows = list(page)
    if form is None:
        initial = {"token": _token(partner), "note": draft.note}
        initial.update({f"sold_{row['book_id']}": draft.lines.get(row["book_id"]) for row in rows})
        form = ReportForm(initial=initial, partner=partner, stock_rows=rows)
        shown = ",".join(
            f"{row['book_id']}:{draft.lines[row['book_id']]}"
            for row in rows
            if row["book_id"] in draft.lines
        )
    return {
        "partner": partner,
        "form": form,
        "page": page,
        "query": query,
        "shown": shown or "",
        "draft": draft,
        "summary": None,
        "way": "titles",
    }


def _summary_context(partner, draft, *, token, nothing=False, note=None, errors=()):
    lines = {} if nothing else draft.lines
    rows = stock_rows_for_books(partner=partner, book_ids=list(lines))
    return {
        "partner": partner,
        "summary": draft_summary(partner=partner, lines=lines, rows=rows),
        "token": token,
        "digest": draft.digest(),
        "nothing": nothing,
        "note": draft.note if note is None else note,
        "errors": list(errors),
        "draft": draft,
        "way": "review",
    }


def _redirect(request, url):
    """Post/redirect/get; under htmx, tell the browser to go there."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _report_already_sent(request, newest_pk):
    messages.warning(
        request,
        _(
            "This report form was already sent, or a report was recorded since you opened "
            "it: nothing was recorded twice. Here is the latest report."
        ),
    )
    return _redirect(request, reverse("operations:report_detail", args=[newest_pk]))


@partner_required
@require_http_methods(["GET", "POST"])
def report_new(request):
    """GET: one page of titles. POST: the page's lines go into the draft, then
    action=save: the page asked for; review: the summary; edit: back to the titles;
    submit: record the draft (or nothing sold)."""
    partner = request.partner
    draft = ReportDraft(request.session, partner=partner)
    query, page_number = _nav(request.POST if request.method == "POST" else request.GET)
    partial = "report" if request.htmx else None
    if request.method == "GET":
        if request.htmx and request.htmx.target != "report":
            partial = None
        context = _titles_context(partner, draft, query=query, page_number=page_number)
        return render_page(request, TEMPLATE, context, partial=partial)

    action = request.POST.get("action", "review")
    if "goto" in request.POST:  # a page button of the titles form
        action = "save"
    elif action == "search":
        action, page_number = "save", "1"
    posted = {
        int(match[2])
        for name in request.POST
        if (match := ReportForm.LINE_KEY.match(name)) and int(match[2]) < 2**62
    }
    rows = sorted(
        stock_rows_for_books(partner=partner, book_ids=posted).values(),
        key=lambda row: (row["book__title"], row["book_id"]),
    )
    form = ReportForm(request.POST, partner=partner, stock_rows=rows)
    shown = str(request.POST.get("shown", ""))[:20000]
    if not form.is_valid():
        if "token" in form.errors:
            data = request.POST.copy()
            data["token"] = _token(partner)
            form = ReportForm(data, partner=partner, stock_rows=rows)
            form.is_valid()
            form.add_error(None, _("This form has expired. Here it is again: check your figures."))
        context = _titles_context(
            partner, draft, query=query, page_number=page_number, form=form, shown=shown
        )
        return render_page(request, TEMPLATE, context, partial=partial)
    token = form.cleaned_data["token"]
    if token != newest_report_pk(partner=partner):
        return _report_already_sent(request, newest_report_pk(partner=partner))

    nothing = form.cleaned_data["nothing"]
    if not nothing:
        form.merge_into(draft)
        draft.save()
    signed = request.POST.get("token")
    if action == "submit":
        return _submit(request, partner, draft, token=token, signed=signed, nothing=nothing)
    if action == "review":
        context = _summary_context(partner, draft, token=signed, nothing=nothing)
        return render_page(request, TEMPLATE, context, partial=partial)
    if action == "save" and not request.htmx:
        return redirect(_titles_url(query, page_number))
    context = _titles_context(partner, draft, query=query, page_number=page_number)
    response = render_page(request, TEMPLATE, context, partial=partial)
    if action == "save":
        response["HX-Push-Url"] = _titles_url(query, context["page"].number)
    return response


def _submit(request, partner, draft, *, token, signed, nothing):
    partial = "report" if request.htmx else None
    digest = request.POST.get("digest")
    if not nothing and digest is not None and digest != draft.digest():
        context = _summary_context(
            partner,
            draft,
            token=signed,
            errors=[_("Your report changed since this summary was shown: check it again.")],
        )
        return render_page(request, TEMPLATE, context, partial=partial)
    note = draft.note
    try:
        report = report_submit(
            partner=partner,
            lines=[] if nothing else draft.service_lines(),
            by=request.user,
            note=note,
            expected_newest_pk=token,
        )
    except ReportAlreadySent as exc:
        return _report_already_sent(request, exc.newest_pk)
    except ValidationError as exc:
        context = _summary_context(
            partner, draft, token=signed, nothing=nothing, errors=exc.messages
        )
        return render_page(request, TEMPLATE, context, partial=partial)
    draft.clear()
    messages.success(request, _("Sales report %(ref)s recorded.") % {"ref": report.reference})
    return _redirect(request, reverse("operations:report_detail", args=[report.pk]))


@partner_required
@require_http_methods(["GET"])
def report_review(request):
    """The summary of the draft, the same whichever way it was filled."""
    partner = request.partner
    draft = ReportDraft(request.session, partner=partner)
    if not draft.lines:
        messages.info(
            request,
            _("Your report has no copies sold yet: add some, or say that nothing was sold."),
        )
        return redirect("operations:report_new")
    context = _summary_context(partner, draft, token=_token(partner))
    return render_page(request, TEMPLATE, context)


# -- scans ----------------------------------------------------------------------------------


def _draft_lines(partner, draft) -> list[dict]:
    """The draft's lines, the latest first, with titles and copies held (one query)."""
    rows = stock_rows_for_books(partner=partner, book_ids=list(draft.lines))
    lines = []
    for pk, sold in reversed(draft.lines.items()):
        row = rows.get(pk)
        lines.append(
            {
                "book_id": pk,
                "title": row["book__title"] if row else "",
                "isbn": row["book__isbn"] if row else "",
                "free": row["free"] if row else 0,
                "sold": sold,
            }
        )
    return lines


@partner_required
@require_http_methods(["GET", "POST"])
def report_scan(request):
    """Each ISBN scanned or typed adds one copy sold; `undo` takes one back."""
    partner = request.partner
    draft = ReportDraft(request.session, partner=partner)
    notice = None
    if request.method == "POST":
        undo = str(request.POST.get("undo", ""))
        if undo:
            book_id = int(undo) if undo.isdigit() and len(undo) < 19 else None
            if book_id in draft.lines:
                draft.set(book_id, draft.lines[book_id] - 1)
                draft.save()
                notice = ("info", _("One copy fewer."))
            else:
                notice = ("danger", _("This line is no longer in your report."))
        else:
            form = ScanForm(request.POST, partner=partner, draft=draft)
            if form.is_valid():
                draft.add(form.book.pk, 1)
                draft.save()
                notice = (
                    "success",
                    _("%(title)s: %(copies)s sold.")
                    % {"title": form.book.title, "copies": draft.lines[form.book.pk]},
                )
            else:
                notice = ("danger", " ".join(form.errors.get("isbn", [])))
        if not request.htmx:
            level = messages.SUCCESS if notice[0] == "success" else messages.ERROR
            if notice[0] == "info":
                level = messages.INFO
            messages.add_message(request, level, notice[1])
            return redirect("operations:report_scan")
    context = {
        "partner": partner,
        "form": ScanForm(partner=partner, draft=draft),
        "lines": _draft_lines(partner, draft),
        "draft": draft,
        "notice": notice,
        "way": "scan",
    }
    return render_page(
        request, "operations/report_scan.html", context, partial="scan" if request.htmx else None
    )


# -- a till export ----------------------------------------------------------------------------


@partner_required
@require_http_methods(["GET", "POST"])
def report_import(request):
    """GET: the upload form. POST with a file: the preview, each refused line with its
    reason. POST action=confirm: the accepted lines go into the draft, then the summary."""
    partner = request.partner
    draft = ReportDraft(request.session, partner=partner)
    key = PENDING_IMPORT.format(partner.pk)
    context = {"partner": partner, "draft": draft, "preview": None, "way": "import"}
    if request.method == "POST" and request.POST.get("action") == "confirm":
        # What the preview accepted, read back from the session and checked again.
        lines = clean_draft_lines(request.session.pop(key, None))
        if not lines:
            messages.error(request, _("Nothing to add: send the file again."))
            return redirect("operations:report_import")
        for book_id, copies in lines.items():
            draft.set(book_id, copies)
        draft.save()
        messages.success(
            request,
            _("%(count)s titles from the file are in your report: check it, then send it.")
            % {"count": len(lines)},
        )
        return redirect("operations:report_review")
    if request.method == "POST":
        form = TillImportForm(request.POST, request.FILES, partner=partner)
        if form.is_valid():
            preview = form.preview
            request.session[key] = [[line.book_id, line.copies] for line in preview.accepted]
            context["preview"] = preview
        else:
            request.session.pop(key, None)
    else:
        form = TillImportForm(partner=partner)
    context["form"] = form
    return render_page(request, "operations/report_import.html", context)
