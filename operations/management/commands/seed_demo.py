from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.services import partner_create

DEMO_PASSWORD = "demo1234"


class Command(BaseCommand):
    help = (
        "Create demo data: the admin admin@example.com and the partner partner1@example.com, "
        f"password {DEMO_PASSWORD}. Safe to run twice. Refuses to run with DEBUG off unless "
        "--force. With --if-empty, does nothing when any user exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the database has users."
        )

    def handle(self, *args, force=False, if_empty=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: demo data is for development. Use --force.")
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users: no demo data loaded.")
            return
        with transaction.atomic():
            if not User.objects.filter(email="admin@example.com").exists():
                User.objects.create_superuser("admin@example.com", DEMO_PASSWORD)
            if not User.objects.filter(email="partner1@example.com").exists():
                partner_create(
                    email="partner1@example.com",
                    store_name="Librairie du Centre",
                    contact_name="Claire Martin",
                    city="Lyon",
                    password=DEMO_PASSWORD,
                )
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        self.stdout.write("  admin    admin@example.com  -> /admin/")
        self.stdout.write("  partner  partner1@example.com -> /")
