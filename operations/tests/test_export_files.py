"""Large exports: written by a task into the private exports storage, downloaded by admins."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import BookFactory
from operations.export_files import export_request, exports_cleanup
from operations.export_models import ExportFile, export_storage
from operations.models import Status
from operations.tests.factories import delivered_order, place_order, submit_report

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:operations_operation_export")


@pytest.fixture(autouse=True)
def _private_exports(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }


@pytest.fixture
def ledger(partner, other_partner):
    nana = BookFactory(title="Nana", isbn="9782070368228", price=Decimal("12.50"))
    germinal = BookFactory(title="Germinal", price=Decimal("8.00"))
    order = delivered_order(partner, (nana, 3), (germinal, 1))
    report = submit_report(partner, (nana, 2))
    pending = place_order(other_partner, (germinal, 4))
    return {"order": order, "report": report, "pending": pending}


def download(client, export):
    return client.get(reverse("admin:operations_exportfile_download", args=[export.pk]))


def read(response, delimiter=",") -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter))


def test_an_export_below_the_threshold_streams_at_once(admin_client, ledger, settings):
    settings.EXPORT_TASK_THRESHOLD = 4  # exactly the 4 item rows
    response = admin_client.get(EXPORT)
    assert isinstance(response, StreamingHttpResponse)
    assert len(read(response)) == 5
    assert not ExportFile.objects.exists()


def test_an_export_above_the_threshold_is_written_by_a_task(
    admin_client, admin_user, ledger, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.EXPORT_TASK_THRESHOLD = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.get(EXPORT, {"status__exact": Status.DELIVERED})
    assert response.status_code == 302
    assert response["Location"].endswith("?status__exact=delivered")

    export = ExportFile.objects.get()
    assert export.requested_by == admin_user and export.state == ExportFile.State.READY
    assert export.rows == 2 and export.query == "status__exact=delivered"
    assert export_storage().exists(export.path)
    url = reverse("admin:operations_exportfile_download", args=[export.pk])
    # Queued after commit: said so (the immediate backend inside a request: see below).
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert export.name in message and "being written" in message

    [mail] = mailoutbox
    assert mail.to == [admin_user.email] and export.name in mail.subject
    assert url in mail.body and "2 lignes" in mail.body  # in the admin's language

    download_response = download(admin_client, export)
    assert download_response.status_code == 200
    assert isinstance(download_response, FileResponse)
    assert export.name in download_response["Content-Disposition"]
    # In the language of the admin who asked (French here: ";" and decimal commas).
    assert admin_user.language == "fr"
    rows = read(download_response, delimiter=";")
    assert rows[0][:3] == ["Date", "Référence", "Partenaire"]
    assert sorted((r[1], r[5], r[7]) for r in rows[1:]) == [
        (ledger["order"].reference, "Germinal", "1"),
        (ledger["order"].reference, "Nana", "3"),
    ]


def test_an_xlsx_export_above_the_threshold_is_a_workbook(
    admin_client, ledger, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_TASK_THRESHOLD = 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(EXPORT, {"format": "xlsx"})
    export = ExportFile.objects.get()
    assert export.format == "xlsx" and export.name.endswith(".xlsx") and export.rows == 4
    body = b"".join(download(admin_client, export).streaming_content)
    assert body.startswith(b"PK")  # a zip: the .xlsx container


@pytest.mark.django_db(transaction=True)
def test_in_a_request_the_immediate_backend_hands_over_the_link_at_once(
    admin_client, ledger, settings
):
    settings.EXPORT_TASK_THRESHOLD = 1
    response = admin_client.get(EXPORT)
    export = ExportFile.objects.get()
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "is ready" in message
    assert reverse("admin:operations_exportfile_download", args=[export.pk]) in message


def test_the_export_list_links_to_the_files(
    admin_client, ledger, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_TASK_THRESHOLD = 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(EXPORT)
    export = ExportFile.objects.get()
    response = admin_client.get(reverse("admin:operations_exportfile_changelist"))
    assert response.status_code == 200
    assert reverse("admin:operations_exportfile_download", args=[export.pk]) in response.text


@pytest.mark.parametrize("who", ["anonymous", "partner"])
def test_only_admins_download_an_export(
    client, partner, admin_user, ledger, who, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(by=admin_user, query="", fmt="csv")
    export.refresh_from_db()
    assert export.is_ready
    if who == "partner":
        client.force_login(partner.user)
    response = download(client, export)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_a_missing_or_unfinished_export_is_not_found(admin_client, admin_user):
    queued = ExportFile.objects.create(name="x.csv", format="csv", requested_by=admin_user)
    assert download(admin_client, queued).status_code == 404
    assert (
        admin_client.get(
            reverse("admin:operations_exportfile_download", args=[queued.pk + 1])
        ).status_code
        == 404
    )


def test_a_new_export_deletes_the_files_past_their_retention(
    admin_user, ledger, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_RETENTION_DAYS = 7
    with django_capture_on_commit_callbacks(execute=True):
        old = export_request(by=admin_user, query="", fmt="csv")
    old.refresh_from_db()
    old_path = old.path
    ExportFile.objects.filter(pk=old.pk).update(requested_at=timezone.now() - timedelta(days=8))
    recent = export_request(by=admin_user, query="", fmt="csv")

    assert list(ExportFile.objects.all()) == [recent]
    assert not export_storage().exists(old_path)
    assert exports_cleanup() == 0  # safe to run twice


def test_a_failed_export_is_marked_failed(
    admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from operations import export_files

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_files, "export_write", broken)
    with django_capture_on_commit_callbacks(execute=True):
        export_request(by=admin_user, query="", fmt="csv")  # the task logs and raises
    assert ExportFile.objects.get().state == ExportFile.State.FAILED
