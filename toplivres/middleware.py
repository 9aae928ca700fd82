"""Project-wide middleware."""

from django.utils.cache import add_never_cache_headers


class PrivatePagesMiddleware:
    """Pages shown to a logged-in person are never stored by the browser or a proxy: on a
    counter phone shared by a shop, Back after logout must not bring a partner's stock or
    orders back from the cache. Responses that set their own Cache-Control keep it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
            response["Cache-Control"] += ", private"
        return response


def _without_nul(query):
    """A copy of a QueryDict with every NUL character removed from keys and values."""
    clean = query.copy()
    clean.clear()
    for key, values in query.lists():
        clean.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    clean._mutable = False
    return clean


class NulCharactersMiddleware:
    """A NUL character in a search or a filter (?q=%00, ?city=a%00b) reaches the database,
    where PostgreSQL refuses it with a DataError: it is removed from the query string before
    any view reads it. Forms refuse NUL in posted text themselves, next to the field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query_string = request.META.get("QUERY_STRING", "")
        if "%00" in query_string or "\x00" in query_string:
            request.GET = _without_nul(request.GET)
        return self.get_response(request)
