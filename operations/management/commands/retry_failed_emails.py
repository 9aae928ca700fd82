from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks import task_backends

from accounts.tasks import send_invitation_email
from operations.billing.tasks import send_billing_document_email
from operations.tasks import send_digest_email, send_notification_email

EMAIL_TASKS = [
    send_notification_email.module_path,
    send_invitation_email.module_path,
    send_billing_document_email.module_path,  # invoices and credit notes
    send_digest_email.module_path,  # the admins' weekly digest
]


class Command(BaseCommand):
    help = (
        "Put the e-mails whose sending failed back in the database task queue (status FAILED "
        "becomes READY), for `manage.py db_worker` to send again. Only e-mail tasks are "
        "touched; running it twice queues each failed e-mail once. Needs TASKS_BACKEND=database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the failed e-mails, change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult

        backend = task_backends[send_notification_email.backend]
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                "The task backend keeps no record of failed e-mails: with TASKS_BACKEND="
                "immediate, send an operation's e-mails again from the admin."
            )
        failed = DBTaskResult.objects.failed().filter(
            task_path__in=EMAIL_TASKS, backend_name=backend.alias
        )
        if dry_run:
            self.stdout.write(f"{failed.count()} failed e-mail(s) would be queued again.")
            return
        count = failed.update(
            status="READY",
            run_after=timezone.now(),
            finished_at=None,
            exception_class_path="",
            traceback="",
        )
        self.stdout.write(f"{count} failed e-mail(s) queued again.")
