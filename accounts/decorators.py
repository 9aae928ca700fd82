from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


def partner_required(view):
    """Let in active partners only.

    Anonymous visitors go to the login page; admins go to the Django admin; an account
    without a partner profile, or a suspended one, is refused.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_admin:
            return redirect("admin:index")
        partner = getattr(user, "partner", None)
        if partner is None or partner.is_suspended or not user.is_active:
            raise PermissionDenied
        request.partner = partner
        return view(request, *args, **kwargs)

    return wrapper
