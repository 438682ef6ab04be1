"""The lead API: idempotent capture, transitions, assignment, activities, follow-ups, conflicts and walls."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import bearer
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import Person
from leadwerk.leads.models import IdempotencyRecord, InterestCategory, Lead, LeadReason

BODY = {
    "person": {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de", "postcode": "80331"},
    "interest": "e-suv",
    "title": "Probefahrt",
    "source": "website",
    "source_details": {"utm_source": "google", "utm_campaign": "herbst"},
    "estimated_value": "45000.00",
}


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", headers=headers)


def test_capture_creates_then_joins_the_open_lead(client, manager, interest):
    headers = bearer(manager)
    first = post(client, "/api/v1/leads", BODY, headers)
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["created"] and body["person_created"]
    assert body["lead"]["status"] == "new" and body["lead"]["interest"]["key"] == "e-suv"
    assert body["lead"]["source_details"] == {"utm_source": "google", "utm_campaign": "herbst"}
    again = post(client, "/api/v1/leads", {**BODY, "message": "Noch Fragen"}, headers)
    assert again.status_code == 200
    assert again.json()["lead"]["id"] == body["lead"]["id"] and again.json()["match_kind"] == "sure"
    assert Lead.objects.count() == 1


def test_same_key_same_body_gives_the_same_answer_and_nothing_new(client, manager, interest):
    headers = {**bearer(manager), "Idempotency-Key": "order-4711"}
    first = post(client, "/api/v1/leads", BODY, headers)
    second = post(client, "/api/v1/leads", BODY, headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Lead.objects.count() == 1
    assert first.json()["lead"]["id"] == IdempotencyRecord.objects.get().lead_id


def test_a_repeat_gets_the_first_answer_even_when_its_input_no_longer_passes(client, manager, interest):
    headers = {**bearer(manager), "Idempotency-Key": "order-4712"}
    first = post(client, "/api/v1/leads", BODY, headers)
    InterestCategory.objects.filter(pk=interest.pk).update(active=False)  # a new capture would now be a 422
    assert post(client, "/api/v1/leads", BODY, {**bearer(manager), "Idempotency-Key": "other"}).status_code == 422
    second = post(client, "/api/v1/leads", BODY, headers)
    assert (second.status_code, second.json()) == (201, first.json())
    assert Lead.objects.count() == 1


def test_the_answer_is_stored_with_the_key_in_one_insert(client, manager, interest):
    from django.test.utils import CaptureQueriesContext

    headers = {**bearer(manager), "Idempotency-Key": "order-4713"}
    with CaptureQueriesContext(connection) as ctx:
        first = post(client, "/api/v1/leads", BODY, headers)
    writes = [q["sql"] for q in ctx.captured_queries if "leads_idempotencyrecord" in q["sql"]]
    sqlite = connection.vendor == "sqlite"  # SQLite asks once more inside its write transaction
    assert [w.split()[0] for w in writes] == (["SELECT", "SELECT", "INSERT"] if sqlite else ["SELECT", "INSERT"])
    record = IdempotencyRecord.objects.get()
    assert (record.status_code, record.lead_id) == (201, first.json()["lead"]["id"])
    assert post(client, "/api/v1/leads", BODY, headers).json() == first.json()


def _capture_after_the_check(manager, body: dict, key: str):
    """The capture of a request whose check before the transaction found no answer for its key."""
    from django.test import RequestFactory

    from leadwerk.core.memo import config_memo
    from leadwerk.leads import api as lead_api
    from leadwerk.leads.schemas import LeadCaptureIn

    request = RequestFactory().post("/api/v1/leads")
    request.membership = manager
    payload = LeadCaptureIn(**body)
    with config_memo():
        person, data = lead_api._capture_input(request, payload)
        return lead_api._capture_once(request, payload, key, lead_api._body_hash(payload), person, data)


def test_a_request_answered_after_its_check_gets_that_answer_and_leaves_nothing(client, manager, interest):
    """Two requests with one key: the second checked before the first committed. Its capture must not stay."""
    first = post(client, "/api/v1/leads", BODY, {**bearer(manager), "Idempotency-Key": "late"})
    answer = _capture_after_the_check(manager, BODY, "late")
    record = IdempotencyRecord.objects.get()
    assert (answer.status_code, answer.value) == (201, record.response)
    assert answer.value["lead"]["id"] == first.json()["lead"]["id"]
    assert Lead.objects.count() == 1 and Person.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_a_request_with_another_body_answered_after_its_check_is_a_conflict(client, manager, interest):
    from leadwerk.core.exceptions import Conflict

    post(client, "/api/v1/leads", BODY, {**bearer(manager), "Idempotency-Key": "late"})
    with pytest.raises(Conflict):
        _capture_after_the_check(manager, {**BODY, "title": "Angebot"}, "late")
    assert Lead.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_configuration_is_read_once_and_before_the_write_transaction(client, manager, interest):
    from django.test.utils import CaptureQueriesContext

    from leadwerk.leads.models import SlaPolicy

    SlaPolicy.objects.create(tenant=manager.tenant, name="Erstkontakt", metric="first_contact", business_minutes=240)
    headers = bearer(manager)
    post(client, "/api/v1/leads", BODY, headers)  # warm-up: the session, the token, the routing cache
    with CaptureQueriesContext(connection) as ctx:
        response = post(
            client, "/api/v1/leads", {**BODY, "person": {**BODY["person"], "email": "b@example.de"}}, headers
        )
    assert response.status_code == 201
    sqls = [q["sql"] for q in ctx.captured_queries]
    begin = next(i for i, sql in enumerate(sqls) if sql.startswith(("BEGIN", "SAVEPOINT")))
    config_tables = ("leads_scoringrule", "leads_scoringsettings", "leads_scoremodel", "leads_slapolicy",
                     "leads_businesscalendar", "leads_routingrule", "contacts_attributedefinition")  # fmt: skip
    for table in config_tables:
        reads = [i for i, sql in enumerate(sqls) if f'FROM "{table}"' in sql or f"FROM {table}" in sql]
        assert reads, f"{table} not read"
        assert len(reads) == 1 and reads[0] < begin, (table, reads, begin)


def test_same_key_other_body_is_a_conflict(client, manager, interest):
    headers = {**bearer(manager), "Idempotency-Key": "order-4711"}
    post(client, "/api/v1/leads", BODY, headers)
    other = post(client, "/api/v1/leads", {**BODY, "title": "Angebot"}, headers)
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Lead.objects.count() == 1


def test_a_failed_request_does_not_burn_its_key(client, manager, interest):
    headers = {**bearer(manager), "Idempotency-Key": "k1"}
    bad = post(client, "/api/v1/leads", {**BODY, "interest": "unknown"}, headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "interest"
    assert not Person.objects.exists() and not IdempotencyRecord.objects.exists()
    assert post(client, "/api/v1/leads", BODY, headers).status_code == 201


def test_keys_are_per_tenant(client, manager, outsider, interest, other_tenant):
    InterestCategory.objects.create(tenant=other_tenant, name="SUV", key="e-suv")
    post(client, "/api/v1/leads", BODY, {**bearer(manager), "Idempotency-Key": "same"})
    theirs = post(client, "/api/v1/leads", BODY, {**bearer(outsider), "Idempotency-Key": "same"})
    assert theirs.status_code == 201
    assert Lead.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"person": None}, "person"),
        ({"person": {"email": "x@example.de"}}, "person.last_name"),
        ({"estimated_value": "-1"}, "estimated_value"),
        ({"channel": "pigeon"}, "channel"),
        ({"rating": "lukewarm"}, "rating"),
        ({"captured_at": "2999-01-01T00:00:00Z"}, "captured_at"),
    ],
)
def test_bad_capture_input_is_a_422_naming_the_field(client, manager, interest, change, field):
    response = post(client, "/api/v1/leads", {**BODY, **change}, bearer(manager))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not Lead.objects.exists()


def test_work_a_lead_through_the_api(client, tenant, manager, interest):
    headers = bearer(manager)
    lead_id = post(client, "/api/v1/leads", BODY, headers).json()["lead"]["id"]
    team = TeamFactory(tenant=tenant, name="Süd")
    sales = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    assigned = post(client, f"/api/v1/leads/{lead_id}/assignment", {"owner_id": sales.pk, "reason": "PLZ 8"}, headers)
    assert assigned.status_code == 200 and assigned.json()["status"] == "routed"

    sales_headers = bearer(sales)
    refused = post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "won"}, sales_headers)
    assert refused.status_code == 422 and "cannot become Won" in refused.json()["detail"]
    assert post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "accepted"}, sales_headers).status_code == 200
    call = post(
        client, f"/api/v1/leads/{lead_id}/activities", {"kind": "call", "outcome": "reached", "duration_minutes": 6},
        sales_headers,
    )  # fmt: skip
    assert call.status_code == 201
    due = (timezone.now() + dt.timedelta(days=1)).isoformat()
    follow = post(client, f"/api/v1/leads/{lead_id}/follow-ups", {"due_at": due, "note": "Angebot"}, sales_headers)
    assert follow.status_code == 201 and follow.json()["assignee_id"] == sales.pk
    done = post(client, f"/api/v1/follow-ups/{follow.json()['id']}/done", {}, sales_headers)
    assert done.json()["done_at"] is not None

    reason = LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis")
    no_reason = post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "lost"}, sales_headers)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason_id"
    lost = post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "lost", "reason_id": reason.pk}, sales_headers)
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason_id"] == reason.pk
    events = client.get(f"/api/v1/leads/{lead_id}/events", headers=headers).json()
    assert [e["kind"] for e in events][:2] == ["status", "sla"]
    assert {e["kind"] for e in events} == {"created", "assignment", "status", "sla"}


def test_stale_patch_is_a_409_naming_who_changed_it(client, manager, admin, interest):
    lead_id = post(client, "/api/v1/leads", BODY, bearer(manager)).json()["lead"]["id"]
    url = f"/api/v1/leads/{lead_id}"
    first = client.patch(url, {"need": "Flotte", "version": 1}, content_type="application/json", headers=bearer(admin))
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(
        url, {"need": "Einzel", "version": 1}, content_type="application/json", headers=bearer(manager)
    )
    assert stale.status_code == 409
    assert admin.user.email in stale.json()["detail"] or admin.user.full_name in stale.json()["detail"]
    assert Lead.objects.get().need == "Flotte"


def test_other_tenant_and_roles_without_the_lead_get_404(client, tenant, manager, outsider, interest):
    lead_id = post(client, "/api/v1/leads", BODY, bearer(manager)).json()["lead"]["id"]
    stranger = MembershipFactory(tenant=tenant, role=Role.SALES)
    privacy = MembershipFactory(tenant=tenant, role=Role.PRIVACY)
    for member in (outsider, stranger, privacy):
        headers = bearer(member)
        assert client.get(f"/api/v1/leads/{lead_id}", headers=headers).status_code == 404
        assert post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "qualifying"}, headers).status_code == 404
        assert client.get(f"/api/v1/leads/{lead_id}/events", headers=headers).status_code == 404
        assert client.get("/api/v1/leads", headers=headers).json()["items"] == []
    assert Lead.objects.get().status == "new"


def test_marketing_reads_but_cannot_work(client, manager, marketing, interest):
    lead_id = post(client, "/api/v1/leads", BODY, bearer(manager)).json()["lead"]["id"]
    headers = bearer(marketing)
    assert client.get(f"/api/v1/leads/{lead_id}", headers=headers).status_code == 200
    assert post(client, f"/api/v1/leads/{lead_id}/transitions", {"to": "qualifying"}, headers).status_code == 404


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory SQLite test database is one connection; PostgreSQL run only"
)
@pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
def test_concurrent_retries_with_one_key_create_one_lead(tenant, manager, interest):
    headers = {**bearer(manager), "Idempotency-Key": "retry-storm"}
    answers: list[int] = []

    def send():
        try:
            answers.append(
                Client().post("/api/v1/leads", BODY, content_type="application/json", headers=headers).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * 6
    assert Lead.objects.count() == 1 and Person.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory SQLite test database is one connection; PostgreSQL run only"
)
@pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
def test_concurrent_captures_of_one_new_person_create_one_person(tenant, manager, interest):
    """Different keys, the same new person at once: one person, one lead, the others added to it."""
    answers: list[int] = []
    gate = threading.Barrier(6)

    def send(n: int):
        try:
            gate.wait()
            headers = {**bearer(manager), "Idempotency-Key": f"form-{n}"}
            answers.append(
                Client().post("/api/v1/leads", BODY, content_type="application/json", headers=headers).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200] * 5 + [201]
    assert Person.objects.count() == 1 and Lead.objects.count() == 1
