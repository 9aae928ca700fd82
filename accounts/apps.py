from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth import signals

        from accounts import receivers

        signals.user_logged_in.connect(receivers.on_login, dispatch_uid="accounts.audit.login")
        signals.user_login_failed.connect(
            receivers.on_login_failed, dispatch_uid="accounts.audit.login_failed"
        )
        signals.user_logged_out.connect(receivers.on_logout, dispatch_uid="accounts.audit.logout")
