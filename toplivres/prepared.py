"""Querysets compiled once per process, then only bound to their arguments.

Building and compiling a rich queryset (subqueries, `Exists`, a dozen annotations) costs the
ORM milliseconds of Python on every request, far more than the database takes to answer it.
A hot read whose shape never changes, only the primary keys it is asked about, is compiled
once per database connection settings; later calls reuse the SQL, the columns and the
converters the ORM made, so the rows are exactly the queryset's own (model instances with
their `select_related` objects and annotations, or the dicts of `.values()`).

    moment = PreparedQuery(lambda partner_id: Operation.objects.filter(partner_id=partner_id))
    rows = moment(partner_id=partner.pk)  # a list, as list(queryset) would give

Arguments are integers (primary keys), passed by name. To find where each one lands among
the SQL's parameters, the query is compiled twice with distinct out-of-the-way values: the
SQL text must be the same both times, and the parameters must differ exactly where those
values stand. Anything else (a clock read while building, an argument that changes the SQL's
shape, an argument the query ignores) refuses to prepare, with an error, on the first call.
"""

import copy
import threading
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet

# Two sets of stand-in keys, negative (never a primary key) and within a 32-bit integer (an
# IntegerField lookup out of range is answered as an empty result, not compiled).
_FIRST, _SECOND = -2_000_000_000, -2_100_000_000


class _Compiled:
    """One compiled query: the queryset it came from, its compiler (columns, converters), the
    SQL, the constant parameters, and for each argument the positions it fills."""

    def __init__(self, queryset: QuerySet, compiler, sql: str, params: tuple, slots: dict):
        self.queryset, self.compiler, self.sql = queryset, compiler, sql
        self.params, self.slots = params, slots
        self.vendor = connections[queryset.db].vendor

    def bind(self, arguments: dict) -> list:
        params = list(self.params)
        for name, positions in self.slots.items():
            for position in positions:
                params[position] = arguments[name]
        compiler = copy.copy(self.compiler)
        # The connection is per thread: the one compiled with may belong to another thread.
        compiler.connection = connections[self.queryset.db]
        sql = self.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        queryset = self.queryset._chain()
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)


class PreparedQuery:
    """A read built by `build(**arguments)` (a queryset), compiled on its first call per
    database and then only bound: calling it returns the queryset's rows as a list."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple[str, ...], _Compiled] = {}
        self._lock = threading.Lock()

    def __call__(self, **arguments: int) -> list:
        for name, value in arguments.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an integer (a primary key), not {value!r}")
        return self._compiled_for(sorted(arguments)).bind(arguments)

    def _compiled_for(self, names: list[str]) -> _Compiled:
        key = tuple(names)
        compiled = self._compiled.get(key)
        if compiled is None or connections[compiled.queryset.db].vendor != compiled.vendor:
            with self._lock:
                compiled = self._prepare(names)
                self._compiled[key] = compiled
        return compiled

    def _compile(self, names: list[str], base: int):
        stand_ins = {name: base - i for i, name in enumerate(names)}
        queryset = self.build(**stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        return stand_ins, queryset, compiler, sql, tuple(params)

    def _prepare(self, names: list[str]) -> _Compiled:
        first, queryset, compiler, sql, params = self._compile(names, _FIRST)
        second, _, _, other_sql, other_params = self._compile(names, _SECOND)
        where = {value: name for name, value in first.items()}
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured("A prepared query's SQL must not depend on its arguments.")
        slots: dict[str, list[int]] = {name: [] for name in names}
        constants = list(params)
        for position, (one, two) in enumerate(zip(params, other_params, strict=True)):
            if one == two:
                continue
            name = where.get(one)
            if name is None or second[name] != two:
                raise ImproperlyConfigured(
                    "A prepared query's parameters must be constant but for its arguments "
                    f"(parameter {position} changed from {one!r} to {two!r})."
                )
            slots[name].append(position)
            constants[position] = None
        unused = [name for name, positions in slots.items() if not positions]
        if unused:
            raise ImproperlyConfigured(f"A prepared query ignores its arguments: {unused}.")
        return _Compiled(queryset, compiler, sql, tuple(constants), slots)
