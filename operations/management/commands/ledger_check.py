from django.core.management.base import BaseCommand, CommandError

from operations.ledger import CHECKS


class Command(BaseCommand):
    help = (
        "Verify every invariant of the ledger from its rows: statuses fit their kinds, "
        "counts_in_stock agrees with the state table, one open order per partner, items "
        "belong to operations with the sign of their kind, event numbers are gapless per "
        "partner and stock replayed in their order never goes negative, rule 2 held when "
        "each order was written, references are unique and gapless. Prints each violation "
        "with the ids concerned and exits with status 1 if there is any. Reads only."
    )

    def handle(self, *args, **options):
        found = 0
        for label, check in CHECKS:
            violations = list(check())
            found += len(violations)
            mark = "ok" if not violations else f"{len(violations)} violation(s)"
            self.stdout.write(f"{label}: {mark}")
            for violation in violations:
                self.stdout.write(f"  {violation}")
        if found:
            raise CommandError(f"The ledger has {found} violation(s).", returncode=1)
        self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
