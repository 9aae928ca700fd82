import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def favicon(request):
    # Resolved per request: the hashed static name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
@never_cache
def healthz(request):
    """For load balancers: the process answers and its database connection works. No
    session, no write."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


# -- error pages: the site's navigation, in the reader's language (handler400/403/404/500) --


def bad_request(request, exception=None):
    return render(request, "400.html", {"status_code": 400}, status=400)


def permission_denied(request, exception=None):
    return render(request, "403.html", {"status_code": 403}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", {"status_code": 404}, status=404)


def server_error(request):
    """Our page with the navigation; if that fails too (the database is down, say), a page
    that needs nothing but the templates."""
    try:
        return render(request, "500.html", {"status_code": 500}, status=500)
    except Exception:
        logger.exception("The error page itself failed; serving the bare one")
        return HttpResponseServerError(render_to_string("500_bare.html"))


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a stale tab or a form left open across a new login. Nothing was
    saved; the way back is the form's own page, opened again with a fresh token."""
    retry_url = request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        retry_url = referer
    context = {"status_code": 403, "retry_url": retry_url}
    return render(request, "403_csrf.html", context, status=403)
