from django.core.management.base import BaseCommand

from operations.models import Reminder
from operations.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Send the reminders due today, each once: report your sales (REPORT_REMINDER_DAYS "
        "days after a delivery with no report since, then every as many days), pay an overdue "
        "invoice (at 1, 15 and 30 days overdue), and the admins' weekly digest (once per ISO "
        "week). Each reminder is recorded under a unique key before its e-mail is queued, so "
        "running it again, or twice at once, sends nothing twice. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be sent; send nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        summary = reminders_send(dry_run=dry_run)
        if dry_run:
            for due in summary.due:
                self.stdout.write(f"would send {due.describe()}")
            self.stdout.write(f"{len(summary.due)} reminders would be sent (dry run).")
            return
        for reminder in summary.sent:
            self.stdout.write(f"sent {reminder.key}", style_func=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(summary.sent)} reminders sent: "
                f"{summary.count(Reminder.Kind.REPORT)} to report, "
                f"{summary.count(Reminder.Kind.OVERDUE)} overdue, "
                f"{summary.count(Reminder.Kind.DIGEST)} digest."
            )
        )
