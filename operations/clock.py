"""The time the services write, read only once they hold the partner's lock.

The order of events never depends on it (rule 2 reads the partner's event numbers); it dates
what people see. Seeding and tests may write history in the past with `backdated`; the
services themselves take no date from their callers.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_backdated: ContextVar[datetime | None] = ContextVar("backdated", default=None)


def now() -> datetime:
    return _backdated.get() or timezone.now()


@contextmanager
def backdated(at: datetime):
    """Within this block the services date what they write `at` (seeding and tests only)."""
    token = _backdated.set(at)
    try:
        yield at
    finally:
        _backdated.reset(token)
