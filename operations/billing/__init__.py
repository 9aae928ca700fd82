"""Invoices and credit notes: the money side of sales reports (DOMAIN rule 11).

Layout: `money` (the rounding rule), `models` (frozen rows), `services` (issue, called by the
report services inside their transaction), `selectors` (scoped reads), `pdf` and `facturx`
(documents rendered from the frozen rows), `checks` (for `ledger_check`), `admin`, `views`.
"""
