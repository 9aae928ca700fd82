from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(request, template, context, *, partial=None, status=200):
    """The full page, or one fragment of it; the two are cached apart (Vary: HX-Request),
    so that the back button never shows a bare fragment."""
    if partial:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
