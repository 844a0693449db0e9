"""The change pages: who sees the forms, each bad input's message (and nothing saved), double
submits, decisions, the PowerShell download and the CSV import's dry run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delegation.changes.models import ChangeBatch, ChangeRequest
from tests.support import changes as changes_fixtures
from tests.support.changes import CALLS, fill_delegates, made, person_user
from tests.support.factories import grant

pytestmark = pytest.mark.django_db


COLUMNS = (
    "Delegator UPN,Delegator object id,Delegate UPN,Delegate object id,Active,Make calls,"
    "Receive calls,Manage call and delegate settings,Pick up held calls,Join active calls"
)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def helpdesk(make_user):
    return client_of(make_user("helpdesk"))


def grant_url(delegator) -> str:
    return reverse("changes:grant", args=[delegator.object_id])


def form(person, **fields) -> dict:
    data = {"idempotency_key": changes_fixtures.key(), "delegate": person.object_id}
    data.update({"is_active": "on", "make_calls": "on", "end_action": "remove", **fields})
    return data


def texts(response) -> str:
    return response.content.decode()


# --- the grant form --------------------------------------------------------------------------
def test_helpdesk_adds_a_delegate_for_a_time_and_lands_on_the_request(
    helpdesk, change_people, change_tasks
):
    ends = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    data = form(change_people["assistant"], ends_at=ends, reason="cover")
    response = helpdesk.post(grant_url(change_people["boss"]), data)
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "changes:detail", args=[change.pk]
    )
    assert (change.kind, change.status, change.on_end) == ("add", "requested", "remove")
    assert change.after["make_calls"] and not change.after["receive_calls"]
    assert change.ends_at is not None and change_tasks
    page = helpdesk.get(response.url)
    assert "Requested" in texts(page) and "Make calls" in texts(page)


def test_a_double_submit_makes_one_request_and_says_so(helpdesk, change_people, change_tasks):
    data = form(change_people["assistant"])
    helpdesk.post(grant_url(change_people["boss"]), data)
    again = helpdesk.post(grant_url(change_people["boss"]), data, follow=True)
    assert ChangeRequest.objects.count() == 1
    assert "This form was sent already" in texts(again)


@pytest.mark.parametrize(
    ("who", "extra", "words"),
    [
        ("boss", {}, "A person cannot be their own delegate."),
        ("disabled", {}, "is disabled."),
        ("assistant", {"ends_at": "2001-01-01T10:00"}, "The end date must be in the future."),
        ("assistant", {"ends_at": "not a date"}, "Give the end as a date and time."),
        ("assistant", {"delegate": "assistant@contoso.test"}, "Choose the delegate from the"),
        ("assistant", {"idempotency_key": "x"}, "This form is damaged; open it again."),
    ],
)
def test_bad_input_is_refused_in_words_and_saves_nothing(
    helpdesk, change_people, change_tasks, who, extra, words
):
    response = helpdesk.post(grant_url(change_people["boss"]), form(change_people[who], **extra))
    assert response.status_code == 200 and words in texts(response)
    assert not ChangeRequest.objects.exists() and not change_tasks


def test_a_26th_delegate_is_refused(helpdesk, change_people, change_tasks):
    fill_delegates(change_people["boss"], 25)
    response = helpdesk.post(grant_url(change_people["boss"]), form(change_people["assistant"]))
    assert "already has 25 delegates" in texts(response)
    assert not ChangeRequest.objects.exists()


def test_an_unknown_person_cannot_be_chosen(helpdesk, change_people, change_tasks):
    stranger = {"delegate": "00000000-0000-0000-0000-0000000000aa"}
    response = helpdesk.post(
        grant_url(change_people["boss"]), form(change_people["assistant"], **stranger)
    )
    assert "is not in the directory" in texts(response)
    assert not ChangeRequest.objects.exists()


def test_someone_who_may_not_manage_the_delegator_gets_no_form(
    make_user, change_people, change_tasks
):
    manager = client_of(make_user("manager"))
    assert manager.get(grant_url(change_people["boss"])).status_code == 404
    assert (
        manager.post(grant_url(change_people["boss"]), form(change_people["assistant"])).status_code
        == 404
    )
    page = manager.get(reverse("delegation:person", args=[change_people["boss"].object_id]))
    assert page.status_code == 200 and "Add a delegate" not in texts(page)
    assert not ChangeRequest.objects.exists()


def test_the_person_page_offers_helpdesk_the_changes_and_says_what_teams_shows(
    helpdesk, change_people
):
    grant(change_people["boss"], change_people["assistant"], make_calls=True, is_active=True)
    page = texts(helpdesk.get(reverse("delegation:person", args=[change_people["boss"].object_id])))
    assert "Add a delegate" in page and "Remove" in page
    assert "Ari Assistant&#x27;s Teams will list Bea Boss among the people they act for" in page


def test_my_delegations_lets_a_person_manage_their_own_and_a_manage_settings_delegators(
    make_user, change_people
):
    grant(change_people["boss"], change_people["deputy"], manage_settings=True, is_active=True)
    deputy = client_of(person_user(make_user, change_people["deputy"]))
    page = texts(deputy.get(reverse("delegation:mine")))
    assert "My delegates" in page and "Delegates of Bea Boss" in page
    assert deputy.get(grant_url(change_people["boss"])).status_code == 200
    assert deputy.get(grant_url(change_people["assistant"])).status_code == 404


def test_my_delegations_reads_whom_a_person_manages_once_for_all_its_panels(
    make_user, change_people
):
    for delegator in ("boss", "assistant"):
        grant(change_people[delegator], change_people["deputy"], manage_settings=True)
    deputy = client_of(person_user(make_user, change_people["deputy"]))
    with CaptureQueriesContext(connection) as queries:
        page = texts(deputy.get(reverse("delegation:mine")))
    assert "My delegates" in page and "Delegates of Bea Boss" in page
    assert page.count("Add a delegate") == 3
    # whom they manage (facts.actor_of), read once rather than once and again for each panel
    managed = [q for q in queries.captured_queries if 'AS "delegator__object_id"' in q["sql"]]
    assert len(managed) == 1


def test_remove_asks_for_a_removal(helpdesk, change_people, change_tasks):
    grant(change_people["boss"], change_people["assistant"], make_calls=True)
    data = {
        "idempotency_key": changes_fixtures.key(),
        "delegate": change_people["assistant"].object_id,
    }
    response = helpdesk.post(
        reverse("changes:remove", args=[change_people["boss"].object_id]), data
    )
    change = ChangeRequest.objects.get()
    assert change.kind == "remove" and change.after is None
    assert response.url == reverse("changes:detail", args=[change.pk])


def test_the_picker_finds_enabled_people_only(helpdesk, change_people):
    page = texts(helpdesk.get(reverse("changes:people"), {"q": "Dora"}))
    assert "Dora" not in page
    assert "Ari Assistant" in texts(helpdesk.get(reverse("changes:people"), {"q": "Ari"}))


# --- requests, decisions, PowerShell ----------------------------------------------------------
def test_an_outsider_cannot_see_someone_elses_request(make_user, change_people):
    change = made(change_people["boss"], change_people["assistant"])
    outsider = client_of(make_user(None))
    assert outsider.get(reverse("changes:detail", args=[change.pk])).status_code == 404
    assert outsider.post(reverse("changes:cancel", args=[change.pk])).status_code == 404


def test_a_manager_approves_with_the_decision_form(make_user, change_people, change_tasks):
    change = made(change_people["boss"], change_people["assistant"], status="awaiting_approval")
    manager = client_of(make_user("manager"))
    assert f"#{change.pk}" in texts(manager.get(reverse("changes:approvals")))
    manager.post(reverse("changes:decide", args=[change.pk]), {"decision": "approve"})
    change.refresh_from_db()
    assert change.status == "requested" and change_tasks


def test_a_manager_rejects_with_a_note_shown_on_the_request(make_user, change_people, change_tasks):
    change = made(change_people["boss"], change_people["assistant"], status="awaiting_approval")
    manager = client_of(make_user("manager"))
    url = reverse("changes:decide", args=[change.pk])
    page = manager.post(url, {"decision": "reject", "note": "<b>no</b>"}, follow=True)
    change.refresh_from_db()
    assert change.status == "rejected" and "&lt;b&gt;no&lt;/b&gt;" in texts(page)


def test_who_asked_may_cancel_a_waiting_request(make_user, change_people):
    user = make_user("helpdesk")
    change = made(
        change_people["boss"], change_people["assistant"], status="requested", requested_by=user
    )
    client_of(user).post(reverse("changes:cancel", args=[change.pk]))
    change.refresh_from_db()
    assert change.status == "cancelled"


def test_the_powershell_script_downloads_as_a_named_text_file(helpdesk, change_people):
    made(
        change_people["boss"],
        change_people["assistant"],
        status="awaiting_powershell",
        method="powershell",
    )
    response = helpdesk.get(reverse("changes:powershell_script"))
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"].startswith('attachment; filename="delegation-changes-')
    assert "New-CsUserCallingDelegate" in texts(response)


# --- CSV import -------------------------------------------------------------------------------
def upload(client, content: bytes, name="delegations.csv"):
    return client.post(reverse("changes:import"), {"file": SimpleUploadedFile(name, content)})


def line(delegator, delegate, flags="yes yes no no no no") -> str:
    return ",".join([delegator.upn, "", delegate.upn, "", *flags.split()])


def test_a_dry_run_shows_its_plan_and_apply_queues_the_job(helpdesk, change_people, change_tasks):
    content = f"{COLUMNS}\n{line(change_people['boss'], change_people['assistant'])}\n".encode()
    response = upload(helpdesk, content)
    batch = ChangeBatch.objects.get()
    assert response.url == reverse("changes:batch", args=[batch.pk])
    page = texts(helpdesk.get(response.url))
    assert 'id="count-adds">1<' in page and "disabled" not in page
    assert not ChangeRequest.objects.exists()
    helpdesk.post(reverse("changes:batch_apply", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "queued" and change_tasks


def test_row_errors_show_on_their_line_and_apply_stays_off(helpdesk, change_people, change_tasks):
    rows = [
        line(change_people["boss"], change_people["assistant"]),
        "nobody@contoso.test,,x@contoso.test,,yes,=1+1,no,no,no,no",
    ]
    response = upload(helpdesk, "\n".join([COLUMNS, *rows]).encode())
    page = texts(helpdesk.get(response.url))
    assert "No one in the directory has the UPN" in page and "holds a formula" in page
    assert 'id="apply" disabled' in page
    batch = ChangeBatch.objects.get()
    applied = helpdesk.post(reverse("changes:batch_apply", args=[batch.pk]), follow=True)
    assert "row(s) have errors" in texts(applied) and not change_tasks


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"Name,Colour\nx,y\n", "Unknown columns"),
        (COLUMNS.encode("utf-8") + b"\n\xff\xfe,,\n", "The file is not UTF-8"),
        (b"", "The file is empty."),
    ],
)
def test_a_file_that_cannot_be_used_gets_its_message(helpdesk, content, words):
    response = upload(helpdesk, content)
    assert response.status_code == 200 and words in texts(response)
    assert not ChangeBatch.objects.exists()


def test_a_50_mb_upload_is_refused_from_its_length_without_being_read(helpdesk, settings):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    response = helpdesk.generic(
        "POST",
        reverse("changes:import"),
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413 and "The file is larger than 5 MB." in texts(response)
    assert not ChangeBatch.objects.exists()


def test_a_file_just_over_the_limit_is_refused_by_the_size_check(helpdesk, settings):
    settings.DELEGATION_CSV_MAX_BYTES = 1024 * 1024
    content = COLUMNS.encode() + b"\n" + b"x" * (1024 * 1024)
    response = upload(helpdesk, content)
    assert "The file is larger than 1 MB." in texts(response)
    assert not ChangeBatch.objects.exists()


def test_the_progress_fragment_asks_for_a_reload_when_the_job_ends(helpdesk, change_people):
    batch = ChangeBatch.objects.create(kind="csv_import", status="succeeded", progress_total=1)
    batch.created_by = None
    url = reverse("changes:batch_progress", args=[batch.pk])
    response = helpdesk.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"
    ChangeBatch.objects.filter(pk=batch.pk).update(status="running")
    assert "HX-Refresh" not in helpdesk.get(url, headers={"HX-Request": "true"})
    assert CALLS
