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
