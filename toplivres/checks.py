"""System checks of the deployment (run by `manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Warning, register

CONSOLE_BACKENDS = {"django.core.mail.backends.console.EmailBackend"}


@register(deploy=True)
def check_email_backend(app_configs, **kwargs):
    """The console backend prints every e-mail into the server log, live password-reset and
    invitation links included: production must send them through a real mail server."""
    if settings.EMAIL_BACKEND in CONSOLE_BACKENDS and not settings.DEBUG:
        return [
            Warning(
                "E-mail goes to the console: password-reset and invitation links would be "
                "written into the server log.",
                hint="Set EMAIL_URL to your mail server, e.g. smtp+tls://user:pw@host:587.",
                id="toplivres.W001",
            )
        ]
    return []
