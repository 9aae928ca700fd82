"""Template helpers for the partner portal: money in the active locale."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import floatformat
from django.utils import formats
from django.utils.translation import get_language

register = template.Library()


@register.filter
def money(value):
    """12.5 -> "12,50 €" in French, "€12.50" in English (grouped thousands)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    if (get_language() or "en").startswith("fr"):
        return f"{number}\xa0€"
    if number.startswith("-"):
        return f"-€{number[1:]}"
    return f"€{number}"


@register.filter
def percent(value):
    """A fraction (0.35, 0.355) as a percentage in the active locale: "35 %", "35,5 %" in
    French; "35%", "35.5%" in English."""
    if value is None or value == "":
        return ""
    number = floatformat(Decimal(value) * 100, -1)
    if (get_language() or "en").startswith("fr"):
        return f"{number}\xa0%"
    return f"{number}%"


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template, or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
