import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_task_queue_is_named_in_french_in_the_french_admin(admin_client):
    body = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Tasks Database Backend" not in body
    assert "Task Results" not in body
    assert "Tâches en arrière-plan" in body
    assert "Résultats des tâches" in body
