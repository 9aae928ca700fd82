from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

BILLING_CHECK = "invoices and credit notes: one per report, gapless numbers, totals = lines"
REMINDERS_CHECK = "reminders name their delivery or invoice, and left their notice"


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = _("Operations")

    def ready(self):
        # `manage.py ledger_check` verifies the billing side too.
        from operations.billing.checks import ledger_violations
        from operations.ledger import CHECKS, register
        from operations.reminders import reminder_violations

        if BILLING_CHECK not in {label for label, _check in CHECKS}:
            register(BILLING_CHECK, ledger_violations)
        if REMINDERS_CHECK not in {label for label, _check in CHECKS}:
            register(REMINDERS_CHECK, reminder_violations)
