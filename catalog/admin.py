import contextlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.imports import (
    decode,
    drop_stashed_upload,
    parse_books_csv,
    stash_upload,
    stashed_upload,
)
from catalog.isbn import normalize_isbn
from catalog.models import Book, Series
from catalog.services import books_import
from toplivres.admin_tools import TamperProofActionsMixin

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@admin.register(Series)
class SeriesAdmin(TamperProofActionsMixin, admin.ModelAdmin):
    list_display = ["name", "book_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books"))

    @admin.display(description=gettext_lazy("books"), ordering="book_count")
    def book_count(self, series):
        return series.book_count


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "Columns: ISBN, title, authors, series, price (header row first). Separated by "
            "“;” or “,”; prices like 12.50 or 12,50; UTF-8. A book whose ISBN exists is "
            "updated; an empty series keeps its series."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB: split it."))
        return decode(upload.read())


class ImportConfirmForm(forms.Form):
    # Names the uploaded file kept on the server (catalog.imports.stash_upload).
    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)


class BookAdminForm(forms.ModelForm):
    # The model field's form field caps input at 13 characters, which refuses the hyphenated
    # form its help text promises ("978-2-07-036822-8"): take up to 20 and normalise here.
    isbn = forms.CharField(
        label=gettext_lazy("ISBN"),
        max_length=20,
        help_text=gettext_lazy("ISBN-13; hyphens and ISBN-10 accepted."),
    )

    class Meta:
        model = Book
        fields = ["isbn", "title", "authors", "series", "volume_number", "price", "is_active"]

    def clean_isbn(self):
        return normalize_isbn(self.cleaned_data["isbn"])


@admin.register(Book)
class BookAdmin(TamperProofActionsMixin, admin.ModelAdmin):
    form = BookAdminForm
    list_display = ["title", "authors", "isbn", "series", "volume_number", "price", "is_active"]
    list_filter = ["series", "is_active"]
    list_select_related = ["series"]
    search_fields = ["title", "authors", "isbn"]
    autocomplete_fields = ["series"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "isbn",
                    "title",
                    "authors",
                    ("series", "volume_number"),
                    "price",
                    "is_active",
                ]
            },
        ),
        (gettext_lazy("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # "978-2-07-036822-8" or an ISBN-10: the stored form is 13 digits without hyphens.
        with contextlib.suppress(ValidationError):
            results |= queryset.filter(isbn=normalize_isbn(search_term))
        return results, may_have_duplicates

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.items.exists():
            return False  # in someone's history: retire it (active off) instead
        return super().has_delete_permission(request, obj)

    # -- catalogue import: upload, preview, confirm ------------------------------------------

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="catalog_book_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import books from a CSV file"),
            "opts": self.opts,
        }
        upload_form, preview, confirm_form = ImportUploadForm(), None, None
        if request.method == "POST" and "confirm" in request.POST:
            confirm_form = ImportConfirmForm(request.POST)
            token = confirm_form.data.get("upload", "")
            text = (
                stashed_upload(token, user_id=request.user.pk) if confirm_form.is_valid() else None
            )
            if text is None:
                confirm_form = None
                self.message_user(
                    request,
                    _("This preview is no longer available: upload the file again."),
                    messages.ERROR,
                )
            else:
                # Checked again at write time: the catalogue may have changed since the preview.
                preview = parse_books_csv(text)
            if text is not None and preview.is_valid:
                try:
                    result = books_import(rows=preview.rows)
                except ValidationError as error:
                    self.message_user(request, " ".join(error.messages), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        _(
                            "Import done: %(created)s book(s) created, %(updated)s "
                            "updated, %(series)s series created."
                        )
                        % {
                            "created": result.created,
                            "updated": result.updated,
                            "series": result.series_created,
                        },
                    )
                    drop_stashed_upload(token, user_id=request.user.pk)
                    return HttpResponseRedirect(reverse("admin:catalog_book_changelist"))
        elif request.method == "POST":
            upload_form = ImportUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                text = upload_form.cleaned_data["file"]
                preview = parse_books_csv(text)
                token = stash_upload(text, user_id=request.user.pk)
                confirm_form = ImportConfirmForm(initial={"upload": token})
        context.update(upload_form=upload_form, preview=preview, confirm_form=confirm_form)
        return TemplateResponse(request, "admin/catalog/book/import.html", context)
