from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from accounts.auth import QueuedPasswordResetForm, ResetLockoutSetPasswordForm
from toplivres.views import favicon, healthz

admin.site.site_header = _("toplivres back office")
admin.site.site_title = _("toplivres")
admin.site.index_title = _("Back office")

urlpatterns = [
    path("favicon.ico", favicon),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        account_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(form_class=ResetLockoutSetPasswordForm),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("operations.urls")),
]

handler400 = "toplivres.views.bad_request"
handler403 = "toplivres.views.permission_denied"
handler404 = "toplivres.views.page_not_found"
handler500 = "toplivres.views.server_error"
