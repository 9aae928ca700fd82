import heapq
import logging
import random
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import AuditEntry, Partner, User, purge_allowed
from accounts.services import partner_create, partner_suspend
from catalog.isbn import isbn13_check_digit
from catalog.models import Book, Series
from operations.billing.models import Allocation, BillingDocument, BillingLine, Invoice, Payment
from operations.billing.payment_services import payment_record
from operations.clock import backdated
from operations.models import (
    EventCounter,
    Notification,
    Operation,
    ReferenceCounter,
    StockBalance,
)
from operations.returns import (
    Receipt,
    return_recall,
    return_receive,
    return_request,
    return_ship,
)
from operations.rollups import trailing_roll
from operations.selectors import stock_quantities_for_partner
from operations.services import (
    Line,
    order_approve,
    order_cancel,
    order_deliver,
    order_place,
    order_reject,
    report_submit,
    report_void,
)

DEMO_PASSWORD = "demo1234"
ADMIN_EMAIL = "admin@example.com"

SERIES = {
    "Les Rougon-Macquart": (
        "Émile Zola",
        [
            "La Fortune des Rougon",
            "La Curée",
            "Le Ventre de Paris",
            "L'Assommoir",
            "Nana",
            "Au Bonheur des Dames",
            "Germinal",
            "L'Œuvre",
        ],
    ),
    "Voyages extraordinaires": (
        "Jules Verne",
        [
            "Cinq semaines en ballon",
            "Voyage au centre de la Terre",
            "De la Terre à la Lune",
            "Vingt mille lieues sous les mers",
            "Le Tour du monde en quatre-vingts jours",
            "L'Île mystérieuse",
            "Michel Strogoff",
        ],
    ),
    "La Comédie humaine": (
        "Honoré de Balzac",
        [
            "Le Père Goriot",
            "Eugénie Grandet",
            "Illusions perdues",
            "La Peau de chagrin",
            "Le Colonel Chabert",
            "Le Lys dans la vallée",
        ],
    ),
    "À la recherche du temps perdu": (
        "Marcel Proust",
        [
            "Du côté de chez Swann",
            "À l'ombre des jeunes filles en fleurs",
            "Le Côté de Guermantes",
            "Sodome et Gomorrhe",
            "La Prisonnière",
        ],
    ),
    "Les Mousquetaires": (
        "Alexandre Dumas",
        ["Les Trois Mousquetaires", "Vingt ans après", "Le Vicomte de Bragelonne"],
    ),
    "Claudine": (
        "Colette",
        ["Claudine à l'école", "Claudine à Paris", "Claudine en ménage", "Claudine s'en va"],
    ),
}
STANDALONE = [
    ("Madame Bovary", "Gustave Flaubert"),
    ("Bel-Ami", "Guy de Maupassant"),
    ("Le Rouge et le Noir", "Stendhal"),
    ("Notre-Dame de Paris", "Victor Hugo"),
    ("Les Misérables", "Victor Hugo"),
    ("La Mare au diable", "George Sand"),
    ("Le Grand Meaulnes", "Alain-Fournier"),
    ("Les Liaisons dangereuses", "Choderlos de Laclos"),
    ("Candide", "Voltaire"),
    ("Thérèse Raquin", "Émile Zola"),
]

PARTNERS = [
    # email, store, contact, city, postal code, commission, state
    (
        "partner1@example.com",
        "Librairie du Centre",
        "Claire Martin",
        "Lyon",
        "69002",
        35,
        "showcase",
    ),
    (
        "partner2@example.com",
        "Au Fil des Pages",
        "Julien Bernard",
        "Nantes",
        "44000",
        33,
        "pending",
    ),
    (
        "partner3@example.com",
        "La Bouquinerie",
        "Sophie Dubois",
        "Bordeaux",
        "33000",
        35,
        "approved",
    ),
    (
        "partner4@example.com",
        "Le Café Littéraire",
        "Marc Lefèvre",
        "Lille",
        "59000",
        30,
        "awaiting",
    ),
    (
        "partner5@example.com",
        "Les Mots Passants",
        "Nadia Haddad",
        "Marseille",
        "13001",
        35,
        "never",
    ),
    (
        "partner6@example.com",
        "L'Écume des Jours",
        "Paul Girard",
        "Rennes",
        "35000",
        35,
        "suspended",
    ),
    (
        "partner7@example.com",
        "Librairie Voyelles",
        "Inès Moreau",
        "Toulouse",
        "31000",
        38,
        "showcase",
    ),
    (
        "partner8@example.com",
        "Association Lire Ensemble",
        "Henri Petit",
        "Grenoble",
        "38000",
        40,
        "showcase",
    ),
]


def _isbn(n: int) -> str:
    first12 = f"97929{n:07d}"
    return first12 + isbn13_check_digit(first12)


@contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Load demo data: the admin admin@example.com and partners partner1@example.com to "
        f"partner8@example.com (password {DEMO_PASSWORD}), about 40 books in 6 series and "
        "12 months of orders and sales reports written through the services. Does nothing "
        "if the demo data is already there. --reset deletes ALL operations, partners, users "
        "and books first. --if-empty does nothing when any user exists. Refuses to run with "
        "DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument(
            "--reset", action="store_true", help="Delete all data first, then load the demo."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the database has any user."
        )

    def handle(self, *args, force=False, reset=False, if_empty=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: demo data is for development. Use --force.")
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has users: no demo data loaded.")
            return
        if reset:
            self._reset()
        if User.objects.filter(email=ADMIN_EMAIL).exists():
            self.stdout.write("Demo data is already loaded (use --reset to start over).")
        else:
            # The demo history sends no e-mail (nor renders the invoice PDFs to attach), and
            # its audit rows are written without a log line each (a year of history would
            # flood the console).
            with (
                override_settings(
                    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                    TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
                ),
                _quiet("toplivres.audit"),
            ):
                self._seed()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    @transaction.atomic
    def _reset(self):
        # The one way to delete the ledger and its history: explicit, and only here.
        with purge_allowed():
            self._purge()

    def _purge(self):
        AuditEntry.objects.all().delete()
        # Invoices first (their lines, credit notes, then invoices: each protects the next).
        Allocation.objects.all().delete()
        Payment.objects.all().delete()
        BillingLine.objects.all().delete()
        BillingDocument.objects.credit_notes().delete()
        BillingDocument.objects.all().delete()
        Notification.objects.all().delete()
        Operation.objects.all().delete()
        EventCounter.objects.all().delete()
        StockBalance.objects.all().delete()
        ReferenceCounter.objects.all().delete()
        Partner.objects.all().delete()
        User.objects.all().delete()
        Book.objects.all().delete()
        Series.objects.all().delete()

    def _print_logins(self):
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        self.stdout.write(f"  {ADMIN_EMAIL:<24} admin   -> /admin/")
        for email, store, *_rest, state in PARTNERS:
            self.stdout.write(f"  {email:<24} partner -> /   {store} ({state})")

    @transaction.atomic
    def _seed(self):
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        # The trailing twelve months end with this month: the history below writes into them
        # through the services (and `ledger_check` proves them on the demo).
        trailing_roll(month=timezone.localdate().replace(day=1))
        admin = User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD, full_name="Éditions Démo")
        books = self._books(rng)
        active_books = [b for b in books if b.is_active]
        now = timezone.now()
        start = now - timedelta(days=365)
        histories = []
        for email, store, contact, city, postal_code, commission, state in PARTNERS:
            partner = partner_create(
                email=email,
                store_name=store,
                contact_name=contact,
                address=f"{rng.randint(1, 120)} rue de la République",
                postal_code=postal_code,
                city=city,
                phone=f"0{rng.randint(1, 5)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                commission_rate=Decimal(commission),
                password=DEMO_PASSWORD,
            )
            if state != "never":
                histories.append(
                    (
                        partner,
                        state,
                        self._history(partner, admin, active_books, rng, start, now, state),
                    )
                )
        # Every partner's history, interleaved in date order: invoice numbers follow their dates.
        _run_in_date_order([steps for _partner, _state, steps in histories])
        for partner, state, _steps in histories:
            if state == "suspended":
                partner_suspend(partner=partner, by=admin, reason="Fermeture pour travaux")
        self._returns(admin, now)
        self._payments(admin, now)
        # Notices of the past were read when they came; the last weeks' are still new.
        Notification.objects.filter(operation__created_at__lt=now - timedelta(days=30)).update(
            read_at=now
        )

    def _books(self, rng):
        books, n = [], 1
        for name, (author, titles) in SERIES.items():
            series = Series.objects.create(name=name)
            for volume, title in enumerate(titles, start=1):
                books.append(self._book(n, title, author, rng, series=series, volume=volume))
                n += 1
        for title, author in STANDALONE:
            books.append(self._book(n, title, author, rng))
            n += 1
        # One retired title: stays in history and stock, can no longer be ordered.
        books[-1].is_active = False
        books[-1].save(update_fields=["is_active"])
        return books

    def _book(self, n, title, author, rng, series=None, volume=None):
        book = Book(
            isbn=_isbn(n),
            title=title,
            authors=author,
            series=series,
            volume_number=volume,
            price=Decimal(rng.choice(["6.90", "7.50", "8.90", "9.90", "12.50", "14.90", "19.90"])),
        )
        book.full_clean()
        book.save()
        return book

    def _history(self, partner, admin, books, rng, start, now, state):
        """Order → approve → deliver → report cycles every six to eight weeks.

        A generator: it yields the date of each next step before taking it, so that
        `_run_in_date_order` interleaves the partners' histories by date."""
        user = partner.user
        t = start + timedelta(days=rng.randint(0, 20), hours=10)
        cycle = 0
        # The partner awaiting a report got its last delivery over REPORT_REMINDER_DAYS (30)
        # days ago: `send_reminders` reminds it to report. Its cycles end earlier for that.
        horizon = timedelta(days=95 if state == "awaiting" else 50)
        while True:
            cycle += 1
            picks = rng.sample(books, rng.randint(3, 7))
            lines = [Line(book_id=b.pk, copies=rng.randint(2, 8)) for b in picks]
            if t + horizon > now:
                break
            if cycle == 2 and state == "showcase" and partner.user.email.endswith("7@example.com"):
                # A cancelled and a rejected order along the way.
                yield t
                with backdated(t):
                    cancelled = order_place(partner=partner, lines=lines[:1], by=user)
                yield t + timedelta(hours=2)
                with backdated(t + timedelta(hours=2)):
                    order_cancel(order=cancelled, by=user)
                yield t + timedelta(hours=3)
                with backdated(t + timedelta(hours=3)):
                    rejected = order_place(partner=partner, lines=lines[:2], by=user)
                yield t + timedelta(days=1)
                with backdated(t + timedelta(days=1)):
                    order_reject(order=rejected, by=admin, reason="Titre en réimpression")
                t += timedelta(days=2)
            yield t
            with backdated(t):
                order = order_place(partner=partner, lines=lines, by=user, note="")
            yield t + timedelta(days=1)
            with backdated(t + timedelta(days=1)):
                order_approve(order=order, by=admin)
            yield t + timedelta(days=3)
            with backdated(t + timedelta(days=3)):
                order_deliver(order=order, by=admin)
            t += timedelta(days=rng.randint(35, 50))
            yield from self._report(
                partner, rng, t, admin, void_first=(cycle == 3 and state == "showcase")
            )
            t += timedelta(days=rng.randint(1, 5))
        if state == "showcase":
            return
        lines = [Line(book_id=b.pk, copies=rng.randint(2, 6)) for b in rng.sample(books, 4)]
        t = min(t, now - timedelta(days=6))
        yield t
        with backdated(t):
            order = order_place(partner=partner, lines=lines, by=user, note="Pour la vitrine")
        if state == "pending":
            return
        yield t + timedelta(days=1)
        with backdated(t + timedelta(days=1)):
            order_approve(order=order, by=admin)
        if state == "approved":
            return
        yield t + timedelta(days=2)
        with backdated(t + timedelta(days=2)):
            order_deliver(order=order, by=admin)

    def _returns(self, admin, now):
        """partner1: a requested return to ship; partner8: a shipped return to receive;
        partner7: a received return with a copy missing and one damaged; partner2: an open
        recall."""
        partners = {p.user.email: p for p in Partner.objects.select_related("user")}

        def lines_for(partner, titles=2, copies=2):
            held = StockBalance.objects.held().filter(partner=partner, quantity__gte=copies)
            return [
                Line(book_id=book_id, copies=copies)
                for book_id in held.order_by("book_id").values_list("book_id", flat=True)[:titles]
            ]

        p1 = partners["partner1@example.com"]
        with backdated(now - timedelta(days=2)):
            return_request(partner=p1, lines=lines_for(p1), by=p1.user, note="Invendus")

        p8 = partners["partner8@example.com"]
        with backdated(now - timedelta(days=5)):
            shipped = return_request(partner=p8, lines=lines_for(p8), by=p8.user)
        with backdated(now - timedelta(days=4)):
            return_ship(ret=shipped, by=p8.user, carrier_reference="6A12345678901")

        p7 = partners["partner7@example.com"]
        lines = lines_for(p7, copies=3)
        with backdated(now - timedelta(days=12)):
            received = return_request(partner=p7, lines=lines, by=p7.user)
        with backdated(now - timedelta(days=11)):
            return_ship(ret=received, by=p7.user)
        receipts = [Receipt(book_id=line.book_id, received=line.copies) for line in lines]
        # One copy missing from the first line, one damaged on the second.
        receipts[0] = Receipt(book_id=lines[0].book_id, received=lines[0].copies - 1)
        if len(receipts) > 1:
            receipts[1] = Receipt(book_id=lines[1].book_id, received=lines[1].copies, damaged=1)
        with backdated(now - timedelta(days=8)):
            return_receive(ret=received, by=admin, receipts=receipts)

        p2 = partners["partner2@example.com"]
        with backdated(now - timedelta(days=1)):
            return_recall(
                partner=p2, lines=lines_for(p2, titles=1), by=admin, reason="Nouvelle édition"
            )

    def _payments(self, admin, now):
        """Each partner pays its invoices by transfer or cheque two to four weeks after
        they are issued, once due at the latest; one not yet due is still to pay. partner2
        leaves its last two unpaid (overdue: first on the receivables desk); partner4 pays
        its last invoice in part; partner1 pays its last invoice and 25 EUR more (credit,
        which pays its next invoice)."""
        rng = random.Random(11)  # noqa: S311 - demo data, not security
        today = timezone.localdate()
        partners = Partner.objects.filter(billing_documents__isnull=False).distinct()
        for partner in partners.select_related("user").order_by("pk"):
            invoices = list(
                Invoice.objects.filter(partner=partner).open().order_by("issue_date", "sequence")
            )
            email = partner.user.email
            for n, invoice in enumerate(invoices, start=1):
                last = n == len(invoices)
                received = min(invoice.issue_date + timedelta(days=rng.randint(12, 28)), today)
                if email == "partner2@example.com" and n > len(invoices) - 2:
                    continue
                if last and email == "partner4@example.com":
                    part = (invoice.open_amount / 2).quantize(Decimal("0.01"))
                    self._pay(partner, admin, invoice, part, received, rng)
                elif last and email == "partner1@example.com":
                    self._pay(partner, admin, invoice, invoice.open_amount, received, rng, 25)
                elif invoice.due_date < today:
                    self._pay(partner, admin, invoice, invoice.open_amount, received, rng)

    def _pay(self, partner, admin, invoice, amount, received, rng, extra=0):
        method = rng.choice(["transfer", "transfer", "transfer", "cheque"])
        if method == "transfer":
            reference = f"VIR {invoice.number}"
        else:
            reference = f"CHQ {rng.randint(1000000, 9999999)}"
        amount = Decimal(amount).quantize(Decimal("0.01"))  # SQLite sums in floats
        at = timezone.make_aware(datetime.combine(received, time(10, 0)))
        with backdated(at):
            payment_record(
                partner=partner,
                amount=amount + extra,
                received_on=received,
                method=method,
                reference=reference,
                by=admin,
                allocate_to={invoice.pk: amount},
            )

    def _report(self, partner, rng, at, admin, void_first=False):
        yield at  # the stock is read when the report is written
        held = stock_quantities_for_partner(partner=partner)
        lines = [
            Line(book_id=book_id, copies=sold)
            for book_id, copies in sorted(held.items())
            if (sold := rng.randint(0, copies))
        ]
        if void_first and lines:
            with backdated(at):
                wrong = report_submit(partner=partner, lines=lines[:1], by=partner.user)
            yield at + timedelta(hours=1)
            with backdated(at + timedelta(hours=1)):
                report_void(report=wrong, by=admin, reason="Saisie en double")
            at += timedelta(hours=2)
        yield at
        with backdated(at):
            report_submit(partner=partner, lines=lines, by=partner.user)


def _run_in_date_order(histories) -> None:
    """Advance the step generators (each yields the date of its next step) earliest first."""
    queue = []
    for n, steps in enumerate(histories):
        when = next(steps, None)
        if when is not None:
            heapq.heappush(queue, (when, n, steps))
    while queue:
        _when, n, steps = heapq.heappop(queue)
        following = next(steps, None)  # takes the step, then tells the date of the next one
        if following is not None:
            heapq.heappush(queue, (following, n, steps))
