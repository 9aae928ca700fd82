def csp_nonce(request):
    """Expose django-csp's nonce as `csp_nonce`, the name `{% htmx_script %}` reads."""
    nonce = getattr(request, "csp_nonce", "")
    return {"csp_nonce": nonce}
