"""Logins and logouts in the audit log (rule 12).

Django's auth signals are the only way to see every login, whichever view or backend ran it;
the receivers hand over to accounts.services at once.
"""

from accounts import services


def on_login(sender, request, user, **kwargs):
    services.login_succeeded(user=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Only the identifier: whatever else was posted (the password) is never read.
    email = credentials.get("username") or credentials.get("email") or ""
    services.login_failed(email=str(email), request=request)


def on_logout(sender, request, user, **kwargs):
    if user is not None and user.is_authenticated:
        services.logged_out(user=user, request=request)
