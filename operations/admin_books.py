"""What the ledger adds to the book admin: the copies each partner holds, on the book's page.

catalog knows nothing of operations (layers point down), so this module replaces the
catalog BookAdmin with a subclass; the operations.admin package imports it.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.admin import BookAdmin
from catalog.models import Book
from operations.selectors import cents, stock_for_book


class LedgerBookAdmin(BookAdmin):
    readonly_fields = ["stock_by_partner", *BookAdmin.readonly_fields]
    fieldsets = [
        *BookAdmin.fieldsets[:-1],
        (gettext_lazy("Copies held by partners"), {"fields": ["stock_by_partner"]}),
        BookAdmin.fieldsets[-1],
    ]

    @admin.display(description=gettext_lazy("copies held"))
    def stock_by_partner(self, book):
        if book.pk is None:
            return "—"
        rows = list(stock_for_book(book=book))
        if not rows:
            return _("No partner holds a copy.")
        body = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{} €</td></tr>',
            (
                (
                    reverse("admin:accounts_partner_change", args=[row["partner_id"]]),
                    row["partner__store_name"],
                    row["quantity"],
                    cents(row["value"]),
                )
                for row in rows
            ),
        )
        return format_html(
            '<table id="book-stock"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            '<tbody>{}</tbody></table><p><a href="{}" id="bulk-recall">{}</a></p>',
            _("Partner"),
            _("Copies"),
            _("Retail value"),
            body,
            reverse("admin:operations_bulk_recall", args=[book.pk]),
            _("Recall from every partner…"),
        )


admin.site.unregister(Book)
admin.site.register(Book, LedgerBookAdmin)
