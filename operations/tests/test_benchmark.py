import io

import pytest
from django.core.management import call_command

from catalog.models import Book
from operations.models import Item, Operation

pytestmark = pytest.mark.django_db


def test_benchmark_prints_figures_and_leaves_the_database_as_it_was():
    out = io.StringIO()
    call_command("benchmark", partners=3, books=60, cycles=2, lines=5, repeat=1, stdout=out)
    text = out.getvalue()
    assert "built 12 operations" in text
    assert "stock_for_partner" in text
    assert "order_place" in text
    assert not Operation.objects.exists()
    assert not Item.objects.exists()
    assert not Book.objects.exists()
