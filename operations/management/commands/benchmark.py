import random
import statistics
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Partner, User
from catalog.isbn import isbn13_check_digit
from catalog.models import Book
from operations import selectors, services
from operations.balances import balances_rebuild
from operations.export_files import export_write
from operations.export_models import export_storage
from operations.models import EventCounter, ExportFile, Item, Kind, Operation, Status


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Measure the ledger's reads and writes at distributor scale. Builds a data set "
        "(partners, books, delivered orders and recorded reports) inside one transaction, "
        "times the stock selectors and the services on it, measures the peak memory of the "
        "export task over the whole ledger, prints the figures, then rolls "
        "everything back: the database is left as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partners", type=int, default=200)
        parser.add_argument("--books", type=int, default=5000)
        parser.add_argument("--cycles", type=int, default=24, help="deliveries per partner")
        parser.add_argument("--lines", type=int, default=25, help="books per delivery")
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args, partners, books, cycles, lines, repeat, **options):
        self.repeat = repeat
        try:
            with transaction.atomic():
                started = time.perf_counter()
                data = self._build(partners, books, cycles, lines)
                self.stdout.write(
                    f"{connection.vendor}: built {data['operations']:,} operations and "
                    f"{data['items']:,} items for {partners} partners and {books:,} books "
                    f"in {time.perf_counter() - started:.1f} s"
                )
                self._measure(data)
                raise _Rollback
        except _Rollback:
            pass

    # -- data ----------------------------------------------------------------------------

    def _build(self, n_partners, n_books, cycles, n_lines):
        return build_ledger(n_partners, n_books, cycles, n_lines)

    # -- figures ---------------------------------------------------------------------------

    def _time(self, label, fn):
        timings = []
        for _ in range(self.repeat):
            started = time.perf_counter()
            fn()
            timings.append((time.perf_counter() - started) * 1000)
        self.stdout.write(
            f"  {label:<44} median {statistics.median(timings):8.1f} ms   "
            f"max {max(timings):8.1f} ms"
        )

    def _measure(self, data):
        partner = data["partners"][len(data["partners"]) // 2]
        book = data["books"][0]
        admin = data["admin"]
        rng = data["rng"]
        self.stdout.write(f"timings over {self.repeat} runs:")
        self._time(
            "stock_for_partner (one partner, all books)",
            lambda: list(selectors.stock_for_partner(partner=partner)),
        )
        self._time(
            "stock_quantities_for_partner",
            lambda: selectors.stock_quantities_for_partner(partner=partner),
        )
        self._time(
            "stock_for_book (one book, all partners)",
            lambda: list(selectors.stock_for_book(book=book)),
        )
        self._time("stock_totals (one partner)", lambda: selectors.stock_totals(partner=partner))
        self._time("stock_totals (all partners)", lambda: selectors.stock_totals())
        self._time("partner_figures", lambda: selectors.partner_figures(partner=partner))
        self._time("ordering_state", lambda: selectors.ordering_state(partner=partner))

        held = selectors.stock_quantities_for_partner(partner=partner)
        sale_lines = [
            services.Line(book_id=b, copies=1) for b in rng.sample(sorted(held), min(25, len(held)))
        ]

        def submit_report_and_void():
            report = services.report_submit(partner=partner, lines=sale_lines, by=partner.user)
            services.report_void(report=report, by=admin, reason="benchmark")

        self._time("report_submit (25 lines) + report_void", submit_report_and_void)

        order_lines = [services.Line(book_id=b.pk, copies=3) for b in rng.sample(data["books"], 25)]

        def place_and_cancel():
            order = services.order_place(partner=partner, lines=order_lines, by=partner.user)
            services.order_cancel(order=order, by=partner.user)

        self._time("order_place (25 lines) + order_cancel", place_and_cancel)

        tracemalloc.start()
        rows = 0
        for _row in (
            Item.objects.filter(operation__counts_in_stock=True)
            .values_list("operation__reference", "book__isbn", "quantity", "unit_price")
            .iterator(chunk_size=5000)
        ):
            rows += 1
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(
            f"  iterate all {rows:,} ledger rows: peak Python memory {peak / 1024 / 1024:.1f} MiB"
        )
        self._measure_export_task(admin)

    def _measure_export_task(self, admin):
        """The export task over the whole ledger (CSV into the exports storage): its peak
        Python memory growth, which must stay flat as the ledger grows (target < 50 MiB)."""
        export = ExportFile.objects.create(
            name="benchmark-operations.csv", format="csv", requested_by=admin
        )
        started = time.perf_counter()
        tracemalloc.start()
        try:
            export_write(export=export, operations=Operation.objects.all())
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            if export.path:
                export_storage().delete(export.path)
        self.stdout.write(
            f"  export task, whole ledger ({export.rows:,} rows, CSV): peak Python memory "
            f"growth {peak / 1024 / 1024:.1f} MiB (target < 50), "
            f"{time.perf_counter() - started:.1f} s"
        )


def build_ledger(n_partners, n_books, cycles, n_lines):
    """A distributor-sized ledger written in bulk (delivered orders and recorded reports
    every month, per partner), with its stored balances; for benchmarks only."""
    rng = random.Random(7)  # noqa: S311 - benchmark data
    tag = f"{rng.randrange(10**6):06d}"
    admin = User.objects.create_superuser(f"bench-admin-{tag}@example.com", None)
    books = Book.objects.bulk_create(
        Book(
            isbn=(first12 := f"9790{tag[:2]}{i:06d}") + isbn13_check_digit(first12),
            title=f"Bench title {i}",
            authors="Bench",
            price=Decimal("12.50"),
        )
        for i in range(n_books)
    )
    partners = []
    for i in range(n_partners):
        user = User.objects.create_user(f"bench-{tag}-{i}@example.com", None)
        partners.append(Partner.objects.create(user=user, store_name=f"Bench store {i}"))
    start = timezone.now() - timedelta(days=cycles * 30 + 30)
    ops, items_per_op = [], []
    for p in partners:
        t = start
        for c in range(cycles):
            picks = rng.sample(books, n_lines)
            delivered = [(b, rng.randint(1, 10)) for b in picks]
            ops.append(
                Operation(
                    kind=Kind.ORDER,
                    status=Status.DELIVERED,
                    counts_in_stock=True,
                    partner=p,
                    reference=f"B{tag}-{p.pk}-{c}-O",
                    opened_at_seq=2 * c,
                    counted_seq=2 * c + 1,
                    created_at=t,
                    created_by=p.user,
                    delivered_at=t + timedelta(days=2),
                    delivered_by=admin,
                )
            )
            items_per_op.append([(b, q) for b, q in delivered])
            sold = [(b, -rng.randint(0, q)) for b, q in delivered]
            ops.append(
                Operation(
                    kind=Kind.REPORT,
                    status=Status.RECORDED,
                    counts_in_stock=True,
                    partner=p,
                    reference=f"B{tag}-{p.pk}-{c}-R",
                    opened_at_seq=2 * c + 1,
                    counted_seq=2 * c + 2,
                    created_at=t + timedelta(days=20),
                    created_by=p.user,
                )
            )
            items_per_op.append([(b, q) for b, q in sold if q])
            t += timedelta(days=30)
    ops = Operation.objects.bulk_create(ops, batch_size=2000)
    EventCounter.objects.bulk_create(EventCounter(partner=p, last_seq=2 * cycles) for p in partners)
    if not ops or ops[0].pk is None:
        refs = [o.reference for o in ops]
        by_ref = dict(Operation.objects.filter(reference__in=refs).values_list("reference", "pk"))
        for o in ops:
            o.pk = by_ref[o.reference]
    item_count = 0
    batch = []
    for op, pairs in zip(ops, items_per_op, strict=True):
        for b, q in pairs:
            batch.append(Item(operation_id=op.pk, book_id=b.pk, quantity=q, unit_price=b.price))
        if len(batch) >= 20000:
            Item.objects.bulk_create(batch)
            item_count += len(batch)
            batch = []
    Item.objects.bulk_create(batch)
    item_count += len(batch)
    balances_rebuild(partner_ids=[p.pk for p in partners])
    with connection.cursor() as cursor:
        # Planner statistics, as a live database has them.
        cursor.execute("ANALYZE")
    return {
        "admin": admin,
        "partners": partners,
        "books": books,
        "operations": len(ops),
        "items": item_count,
        "rng": rng,
    }
