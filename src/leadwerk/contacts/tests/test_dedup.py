"""The batch duplicate finder: scoring, storing with decisions kept, online flags, runs, screens, API, scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import bearer, login
from django.urls import reverse
from django.utils import timezone
from tests.factories import OrganizationFactory, PersonFactory

from leadwerk.contacts import dedup, services
from leadwerk.contacts.exceptions import NotAllowed
from leadwerk.contacts.models import DedupRun, DuplicateCandidate, Person
from leadwerk.core.exceptions import Conflict, ValidationFailed


def _person(tenant, **kwargs):
    kwargs.setdefault("email", "")
    person = PersonFactory(tenant=tenant, **kwargs)
    Person.objects.filter(pk=person.pk).update(last_name_key=person.last_name.lower().replace("ü", "ue"))
    return person


@pytest.fixture
def people(tenant):
    """Planted duplicates among distinct people of one postcode."""
    org = OrganizationFactory(tenant=tenant, name="Werkhaus GmbH")
    p = {
        "thomas": _person(tenant, first_name="Thomas", last_name="Müller", street="Hauptstraße 5", postcode="20095",
                          email="t.mueller@example.de", phone="+49401111111"),
        "thomas2": _person(tenant, first_name="Thomas", last_name="Mueller", street="Hauptstr. 5", postcode="20095"),
        "thomas3": _person(tenant, first_name="Tomas", last_name="Müller", street="Gartenweg 9", postcode="80331",
                           email="t.mueller@example.de"),
        "petra": _person(tenant, first_name="Petra", last_name="Schulz", street="Ring 1", postcode="20095",
                         phone="+49402222222", organization=org),
        "petra2": _person(tenant, first_name="Petra", last_name="Schultz", street="Ring 1", postcode="20095",
                          phone="040 2222222", organization=org),
        # Colleagues at the same address, different people.
        "jan": _person(tenant, first_name="Jan", last_name="Schulz", street="Ring 1", postcode="20095",
                       email="jan@werkhaus.de", organization=org),
        "eva": _person(tenant, first_name="Eva", last_name="Berg", street="Ring 1", postcode="20095",
                       email="eva@werkhaus.de", organization=org),
        "otto": _person(tenant, first_name="Otto", last_name="Lang", street="Weg 2", postcode="50667"),
    }  # fmt: skip
    return p


def _pairs(tenant) -> set[frozenset]:
    return {
        frozenset((c.person_a_id, c.person_b_id))
        for c in DuplicateCandidate.objects.filter(tenant=tenant, source="batch")
    }


def _run(by, django_capture_on_commit_callbacks, threshold=None) -> DedupRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = dedup.dedup_run_start(by=by, threshold=threshold)
    run.refresh_from_db()
    return run


def test_finder_proposes_the_planted_pairs_only(marketing, people, django_capture_on_commit_callbacks):
    run = _run(marketing, django_capture_on_commit_callbacks)
    assert run.status == DedupRun.Status.DONE, run.error
    assert run.people_count == 8 and run.finished_at and run.seconds is not None
    p = people
    expected = {
        frozenset((p["thomas"].pk, p["thomas2"].pk)),  # umlaut spelled out, street abbreviated
        frozenset((p["thomas"].pk, p["thomas3"].pk)),  # same e-mail, first name typo, moved
        frozenset((p["petra"].pk, p["petra2"].pk)),  # last name typo, phone in another format
    }
    found = _pairs(marketing.tenant)
    assert expected <= found
    assert frozenset((p["petra"].pk, p["jan"].pk)) not in found
    assert frozenset((p["jan"].pk, p["eva"].pk)) not in found
    candidate = DuplicateCandidate.objects.get(person_a=p["petra"], person_b=p["petra2"])
    assert candidate.levels["phone"] == "exact" and candidate.levels["location"] == "address"
    assert 0.95 <= candidate.score <= 1 and candidate.run == run


def test_rerun_keeps_decisions_and_drops_pairs_below_the_threshold(
    marketing, people, django_capture_on_commit_callbacks
):
    _run(marketing, django_capture_on_commit_callbacks)
    p = people
    dismissed = DuplicateCandidate.objects.get(person_a=p["thomas"], person_b=p["thomas3"])
    dedup.candidate_dismiss(by=marketing, candidate=dismissed)
    kept = DuplicateCandidate.objects.get(person_a=p["petra"], person_b=p["petra2"])

    second = _run(marketing, django_capture_on_commit_callbacks)

    assert second.candidates_new == 0
    dismissed.refresh_from_db()
    assert dismissed.status == DuplicateCandidate.Status.DISMISSED
    assert DuplicateCandidate.objects.get(pk=kept.pk).run == second  # same row, updated
    # A stricter threshold drops open pairs that no longer reach it, never decided ones.
    _run(marketing, django_capture_on_commit_callbacks, threshold=0.9999)
    assert DuplicateCandidate.objects.filter(pk=dismissed.pk).exists()


def test_online_flags_join_the_queue(marketing, tenant, django_capture_on_commit_callbacks):
    first = services.person_create(
        by=marketing, data={"first_name": "Karin", "last_name": "Vogel", "postcode": "20095"}
    ).person
    flagged = services.person_create(
        by=marketing, data={"first_name": "Karin", "last_name": "Vogl", "postcode": "20095"}
    ).person
    assert flagged.duplicate_of_id == first.pk
    assert dedup.candidates_sync_online(tenant_id=tenant.pk) == 1
    assert dedup.candidates_sync_online(tenant_id=tenant.pk) == 0
    candidate = DuplicateCandidate.objects.get(tenant=tenant)
    assert candidate.source == DuplicateCandidate.Source.ONLINE
    dedup.candidate_dismiss(by=marketing, candidate=candidate)
    flagged.refresh_from_db()
    assert flagged.duplicate_of_id is None  # "not a duplicate" clears the flag


def test_run_start_rules(marketing, manager, tenant, django_capture_on_commit_callbacks):
    with pytest.raises(NotAllowed):
        dedup.dedup_run_start(by=manager)
    with pytest.raises(ValidationFailed):
        dedup.dedup_run_start(by=marketing, threshold=0.2)
    running = DedupRun.objects.create(tenant=tenant, threshold=0.9, status=DedupRun.Status.RUNNING)
    with pytest.raises(Conflict):
        dedup.dedup_run_start(by=marketing)
    # A run that stopped making progress (its worker died) no longer blocks.
    DedupRun.objects.filter(pk=running.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=False):
        dedup.dedup_run_start(by=marketing)
    assert DedupRun.objects.get(pk=running.pk).status == DedupRun.Status.FAILED


def test_threshold_is_the_tenants_last_choice(marketing, people, django_capture_on_commit_callbacks):
    assert dedup.threshold_for(marketing.tenant_id) == dedup.DEFAULT_THRESHOLD
    _run(marketing, django_capture_on_commit_callbacks, threshold=0.97)
    assert dedup.threshold_for(marketing.tenant_id) == 0.97


def test_people_of_other_tenants_are_never_compared(marketing, people, outsider, django_capture_on_commit_callbacks):
    twin = _person(outsider.tenant, first_name="Thomas", last_name="Müller", street="Hauptstraße 5", postcode="20095",
                   email="t.mueller@example.de")  # fmt: skip
    _run(marketing, django_capture_on_commit_callbacks)
    assert not DuplicateCandidate.objects.filter(person_a=twin).exists()
    assert not DuplicateCandidate.objects.filter(person_b=twin).exists()


# --- screens ---------------------------------------------------------------------------------------------


def test_queue_lists_pairs_best_first_and_filters(client, marketing, people, django_capture_on_commit_callbacks):
    _run(marketing, django_capture_on_commit_callbacks)
    login(client, marketing)
    url = reverse("contacts:duplicate_list", args=[marketing.tenant.slug])
    response = client.get(url)
    assert response.status_code == 200
    items = response.context["page"].items
    assert len(items) >= 3 and [c.score for c in items] == sorted((c.score for c in items), reverse=True)
    assert 'data-testid="run-start"' in response.content.decode()
    assert not client.get(url, {"status": "dismissed"}).context["page"].items
    assert not client.get(url, {"source": "online"}).context["page"].items


def test_queue_pages_by_cursor(client, marketing, tenant):
    a = [_person(tenant, first_name=f"A{i}", last_name="X") for i in range(5)]
    for i in range(4):
        DuplicateCandidate.objects.create(tenant=tenant, person_a=a[i], person_b=a[i + 1], score=0.96)
    login(client, marketing)
    page = dedup.candidate_page(membership=marketing, status="open", source="", cursor=None, size=3)
    second = dedup.candidate_page(membership=marketing, status="open", source="", cursor=page.next_cursor, size=3)
    ids = [c.pk for c in page.items + second.items]
    assert len(ids) == 4 == len(set(ids)) and second.next_cursor is None


def test_start_run_from_the_page(client, marketing, people, django_capture_on_commit_callbacks):
    login(client, marketing)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("contacts:duplicate_run_start", args=[marketing.tenant.slug]), {"threshold": "0,96"}
        )
    assert response.status_code == 302
    run = DedupRun.objects.get()
    assert run.threshold == 0.96 and run.status == DedupRun.Status.DONE
    card = client.get(reverse("contacts:duplicate_run", args=[marketing.tenant.slug, run.pk]))
    assert card.status_code == 200 and "hx-trigger" not in card.content.decode()


def test_running_search_is_polled(client, marketing, tenant):
    run = DedupRun.objects.create(tenant=tenant, threshold=0.95, status=DedupRun.Status.RUNNING, phase="score")
    login(client, marketing)
    card = client.get(reverse("contacts:duplicate_run", args=[tenant.slug, run.pk]))
    assert 'hx-trigger="every 2s"' in card.content.decode()


def test_dismiss_from_the_pair_page(client, marketing, people, django_capture_on_commit_callbacks):
    _run(marketing, django_capture_on_commit_callbacks)
    candidate = DuplicateCandidate.objects.order_by("-score").first()
    login(client, marketing)
    response = client.post(reverse("contacts:duplicate_dismiss", args=[marketing.tenant.slug, candidate.pk]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "dismissed" and candidate.decided_by == marketing


def test_readers_see_the_queue_but_cannot_start_or_dismiss(client, privacy, tenant, people):
    candidate = DuplicateCandidate.objects.create(
        tenant=tenant, person_a=people["petra"], person_b=people["petra2"], score=0.99
    )
    login(client, privacy)
    page = client.get(reverse("contacts:duplicate_list", args=[tenant.slug]))
    assert page.status_code == 200 and 'data-testid="run-start"' not in page.content.decode()
    assert client.post(reverse("contacts:duplicate_run_start", args=[tenant.slug])).status_code == 404
    assert client.post(reverse("contacts:duplicate_dismiss", args=[tenant.slug, candidate.pk])).status_code == 404
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == "open"


@pytest.mark.parametrize("who", ["outsider", "agent", "sales", "partner_user"])
def test_duplicate_urls_are_404_for_other_tenants_and_roles(client, request, tenant, people, who):
    candidate = DuplicateCandidate.objects.create(
        tenant=tenant, person_a=people["petra"], person_b=people["petra2"], score=0.99
    )
    run = DedupRun.objects.create(tenant=tenant, threshold=0.95)
    member = request.getfixturevalue(who)
    login(client, member)
    slug = member.tenant.slug
    assert client.get(reverse("contacts:duplicate_pair", args=[slug, candidate.pk])).status_code == 404
    assert client.get(reverse("contacts:duplicate_run", args=[slug, run.pk])).status_code == 404
    assert client.post(reverse("contacts:duplicate_dismiss", args=[slug, candidate.pk])).status_code == 404
    assert client.post(reverse("contacts:duplicate_merge", args=[slug, candidate.pk]), {"keep": "a"}).status_code == 404
    if who != "outsider":
        assert client.get(reverse("contacts:duplicate_list", args=[slug])).status_code == 404
    else:
        assert not client.get(reverse("contacts:duplicate_list", args=[slug])).context["page"].items
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == "open"


# --- API -------------------------------------------------------------------------------------------------


def test_api_run_list_get_dismiss(client, marketing, people, django_capture_on_commit_callbacks):
    headers = bearer(marketing)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/v1/duplicates/runs", data={"threshold": 0.95}, content_type="application/json",
                              headers=headers)  # fmt: skip
    assert started.status_code == 202, started.content
    run = client.get(f"/api/v1/duplicates/runs/{started.json()['id']}", headers=headers).json()
    assert run["status"] == "done" and run["people_count"] == 8
    page = client.get("/api/v1/duplicates", {"limit": 2}, headers=headers).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    first = page["items"][0]
    detail = client.get(f"/api/v1/duplicates/{first['id']}", headers=headers).json()
    assert detail["levels"] and detail["default_survivor_id"] in (first["person_a"]["id"], first["person_b"]["id"])
    dismissed = client.post(f"/api/v1/duplicates/{first['id']}/dismiss", headers=headers)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert client.post(f"/api/v1/duplicates/{first['id']}/dismiss", headers=headers).status_code == 409
    listed = client.get("/api/v1/duplicates", {"status": "dismissed"}, headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [first["id"]]


def test_api_validates_threshold(client, marketing):
    response = client.post("/api/v1/duplicates/runs", data={"threshold": 2}, content_type="application/json",
                           headers=bearer(marketing))  # fmt: skip
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "threshold"


@pytest.mark.parametrize("who", ["outsider", "agent", "sales", "partner_user"])
def test_api_duplicate_objects_are_404_outside_tenant_and_role(client, request, tenant, people, who):
    candidate = DuplicateCandidate.objects.create(
        tenant=tenant, person_a=people["petra"], person_b=people["petra2"], score=0.99
    )
    run = DedupRun.objects.create(tenant=tenant, threshold=0.95)
    headers = bearer(request.getfixturevalue(who))
    assert client.get(f"/api/v1/duplicates/{candidate.pk}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/duplicates/runs/{run.pk}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/duplicates/{candidate.pk}/dismiss", headers=headers).status_code == 404
    merge = client.post(f"/api/v1/duplicates/{candidate.pk}/merge", data={"survivor_id": people["petra"].pk},
                        content_type="application/json", headers=headers)  # fmt: skip
    assert merge.status_code == 404
    assert client.get("/api/v1/duplicates", headers=headers).json().get("items", []) == []
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == "open"
