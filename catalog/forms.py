from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.selectors import series_list


class BookSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Title, author, ISBN or series"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    series = forms.ModelChoiceField(
        label=_("Series"),
        queryset=series_list(),
        required=False,
        empty_label=_("All series"),
    )
