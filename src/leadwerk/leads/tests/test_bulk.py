"""Bulk lead actions: services with mixed results, the inbox's two-step form, exports, the API, and the walls."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import bearer, login
from django.urls import reverse
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.models import AuditEntry
from leadwerk.accounts.roles import Role
from leadwerk.core.exceptions import PermissionDenied, ValidationFailed
from leadwerk.leads import bulk, services
from leadwerk.leads.models import FollowUp, InterestCategory, Lead, LeadEvent, LeadReason

API = "/api/v1/leads/bulk"


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


@pytest.fixture
def lost_reason(tenant):
    return LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis zu hoch")


def capture(by, last_name, interest=None, **lead):
    person = {"last_name": last_name, "email": f"{last_name.lower()}@example.de"}
    return services.lead_capture(by=by, person=person, lead={"interest": interest, **lead}).lead


@pytest.fixture
def leads(manager, interest):
    """Three new leads and one accepted one."""
    new = [capture(manager, name, interest) for name in ("Wagner", "Becker", "Schulz")]
    accepted = capture(manager, "Keller", interest)
    services.lead_transition(lead=accepted, by=manager, to="accepted")
    return [*new, accepted]


def url(tenant, name="lead_bulk"):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug})


def select(by, leads):
    return bulk.bulk_select(by=by, ids=[lead.pk for lead in leads])


# --- services --------------------------------------------------------------------------------------


def test_status_change_moves_the_leads_that_can_and_reports_the_others(manager, leads, lost_reason):
    outcome = bulk.leads_transition(by=manager, selection=select(manager, leads), to="lost", reason=lost_reason)
    assert outcome.done == [leads[3].pk]
    assert sorted(r.lead_id for r in outcome.refused) == sorted(lead.pk for lead in leads[:3])
    assert outcome.reasons == [("A lead that is New cannot become Lost. Possible next: Qualifying, Qualified, "
                                "Routed, Accepted, Disqualified, Nurture.", 3)]  # fmt: skip
    assert Lead.objects.get(pk=leads[3].pk).lost_reason == lost_reason
    assert (
        list(Lead.objects.filter(pk__in=[lead.pk for lead in leads[:3]]).values_list("status", flat=True))
        == ["new"] * 3
    )
    assert LeadEvent.objects.filter(lead=leads[3], kind="status", after__status="lost").count() == 1


def test_input_wrong_for_every_lead_is_refused_once_and_changes_nothing(manager, leads):
    with pytest.raises(ValidationFailed) as error:
        bulk.leads_transition(by=manager, selection=select(manager, leads), to="lost")
    assert error.value.field == "reason"
    with pytest.raises(ValidationFailed) as error:
        bulk.leads_transition(
            by=manager, selection=select(manager, leads), to="nurture", recontact_on=timezone.localdate()
        )
    assert error.value.field == "recontact_on"
    assert not LeadEvent.objects.filter(kind="status", after__status__in=["lost", "nurture"]).exists()


def test_assign_gives_every_lead_to_the_member_with_events(manager, tenant, leads):
    team = TeamFactory(tenant=tenant)
    seller = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    outcome = bulk.leads_assign(by=manager, selection=select(manager, leads), owner=seller, team=None)
    assert sorted(outcome.done) == sorted(lead.pk for lead in leads) and not outcome.refused
    assert set(Lead.objects.values_list("owner", "team")) == {(seller.pk, team.pk)}
    # New leads become "routed"; the accepted one keeps its status.
    assert Lead.objects.get(pk=leads[0].pk).status == "routed"
    assert Lead.objects.get(pk=leads[3].pk).status == "accepted"
    assert LeadEvent.objects.filter(kind="assignment", after__owner=seller.pk).count() == 4


def test_assign_to_a_member_of_another_tenant_is_a_field_error(manager, outsider, leads):
    with pytest.raises(ValidationFailed) as error:
        bulk.leads_assign(by=manager, selection=select(manager, leads), owner=outsider, team=None)
    assert error.value.field == "owner"
    # Nothing changed: the accepted lead is still the manager's (accepting took it on), the others nobody's.
    assert dict(Lead.objects.values_list("pk", "owner")) == {
        **{lead.pk: None for lead in leads[:3]},
        leads[3].pk: manager.pk,
    }


def test_follow_up_on_closed_leads_is_refused_per_lead(manager, leads, lost_reason):
    services.lead_transition(lead=leads[3], by=manager, to="lost", reason=lost_reason)
    due = timezone.now() + dt.timedelta(days=2)
    outcome = bulk.leads_follow_up(by=manager, selection=select(manager, leads), due_at=due)
    assert len(outcome.done) == 3
    assert [(r.lead_id, r.message) for r in outcome.refused] == [
        (leads[3].pk, "The lead is closed; a new response will start a new lead.")
    ]
    assert FollowUp.objects.count() == 3
    assert Lead.objects.get(pk=leads[0].pk).next_follow_up_at == due


def test_a_sales_user_only_reaches_own_leads(tenant, manager, leads):
    seller = MembershipFactory(tenant=tenant, role=Role.SALES)
    services.lead_assign(lead=leads[0], by=manager, owner=seller)
    selection = select(seller, leads)
    assert [lead.pk for lead in selection.leads] == [leads[0].pk]
    assert selection.missing == [lead.pk for lead in leads[1:]]
    outcome = bulk.leads_transition(by=seller, selection=selection, to="accepted")
    assert outcome.done == [leads[0].pk]
    assert {r.message for r in outcome.refused} == {"Lead not found."} and len(outcome.refused) == 3
    assert Lead.objects.get(pk=leads[1].pk).status == "new"


def test_marketing_and_sales_cannot_bulk_assign(tenant, marketing, sales, leads):
    for member in (marketing, sales):
        with pytest.raises(PermissionDenied):
            bulk.leads_assign(by=member, selection=select(member, leads), owner=member, team=None)
    with pytest.raises(PermissionDenied):
        bulk.leads_transition(by=marketing, selection=select(marketing, leads), to="qualifying")


def test_filter_selection_is_capped(manager, leads, monkeypatch):
    assert len(bulk.bulk_select(by=manager, filters={"view": "all"}).leads) == 4
    monkeypatch.setattr(bulk, "BULK_LIMIT", 3)
    with pytest.raises(ValidationFailed) as error:
        bulk.bulk_select(by=manager, filters={"view": "all"})
    assert error.value.field == "scope"
    with pytest.raises(ValidationFailed):
        bulk.bulk_select(by=manager, ids=[lead.pk for lead in leads])


def test_filter_selection_follows_the_inbox_filter(manager, leads, interest, tenant):
    other = InterestCategory.objects.create(tenant=tenant, name="Kombi", key="kombi")
    capture(manager, "Lange", other)
    assert len(bulk.bulk_select(by=manager, filters={"view": "all", "interest": "kombi"}).leads) == 1
    assert len(bulk.bulk_select(by=manager, filters={"view": "all", "status": "accepted"}).leads) == 1
    assert [lead.pk for lead in bulk.bulk_select(by=manager, filters={"view": "mine"}).leads] == [leads[3].pk]


# --- inbox screens ---------------------------------------------------------------------------------


def test_inbox_shows_the_bulk_bar_with_the_actions_of_the_role(client, tenant, manager, marketing, leads):
    html = login(client, manager).get(url(tenant, "lead_inbox")).content.decode()
    assert 'id="lead-bulk-form"' in html and 'value="assign"' in html and 'value="status"' in html
    assert f'name="ids" value="{leads[0].pk}" form="lead-bulk-form"' in html
    html = login(client, marketing).get(url(tenant, "lead_inbox")).content.decode()
    assert 'value="export_csv"' in html and 'value="assign"' not in html and 'value="status"' not in html


def test_bulk_status_two_steps_with_field_error_then_result(client, tenant, manager, leads, lost_reason):
    login(client, manager)
    ids = [lead.pk for lead in leads]
    step1 = client.post(url(tenant), {"action": "status", "scope": "selected", "ids": ids, "view": "all"})
    assert step1.status_code == 200 and "Apply to 4 leads" in step1.content.decode()
    data = {"action": "status", "scope": "selected", "ids": ids, "view": "all", "step": "apply", "to": "lost"}
    missing = client.post(url(tenant), data)
    assert missing.status_code == 422 and "Choose a reason." in missing.content.decode()
    assert not Lead.objects.filter(status="lost").exists()
    done = client.post(url(tenant), {**data, "reason": lost_reason.pk})
    assert done.status_code == 200
    html = done.content.decode()
    assert 'data-testid="bulk-result"' in html and "cannot become Lost" in html and "Wagner" in html
    assert done.context["outcome"].done == [leads[3].pk] and len(done.context["outcome"].refused) == 3


def test_bulk_assign_all_matching_the_filter(client, tenant, manager, leads):
    seller = MembershipFactory(tenant=tenant, role=Role.SALES)
    login(client, manager)
    response = client.post(
        url(tenant),
        {"action": "assign", "scope": "filter", "view": "unassigned", "status": "new", "step": "apply",
         "owner": seller.pk},
    )  # fmt: skip
    assert response.status_code == 200
    assert sorted(response.context["outcome"].done) == sorted(lead.pk for lead in leads[:3])
    assert Lead.objects.filter(owner=seller).count() == 3


def test_nothing_ticked_goes_back_with_a_message(client, tenant, manager, leads):
    response = login(client, manager).post(url(tenant), {"action": "status", "scope": "selected", "view": "all"})
    assert response.status_code == 302 and response["Location"].endswith("?view=all")
    assert "Tick at least one lead" in client.get(response["Location"]).content.decode()


def test_marketing_cannot_post_a_bulk_change_but_can_export(client, tenant, marketing, leads):
    login(client, marketing)
    ids = [lead.pk for lead in leads]
    denied = client.post(url(tenant), {"action": "status", "scope": "selected", "ids": ids, "step": "apply"})
    assert denied.status_code == 404
    export = client.post(url(tenant), {"action": "export_csv", "scope": "selected", "ids": ids})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("Lead no.;Status;Last name") and "Keller" in body
    assert len(body.strip().splitlines()) == 5
    entry = AuditEntry.objects.filter(tenant=tenant).latest("pk")
    assert "Export leads (bulk): 4 (csv)" in entry.object_repr


def test_xlsx_export_of_the_filter(client, tenant, manager, leads):
    response = login(client, manager).post(url(tenant), {"action": "export_xlsx", "scope": "filter", "view": "all"})
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_other_tenant_ids_are_not_found_and_unchanged(client, tenant, outsider, leads):
    login(client, outsider)
    response = client.post(
        reverse("leads:lead_bulk", kwargs={"tenant": outsider.tenant.slug}),
        {"action": "status", "scope": "selected", "ids": [leads[0].pk], "step": "apply", "to": "qualifying"},
    )
    assert response.status_code == 200
    assert [r.message for r in response.context["outcome"].refused] == ["Lead not found."]
    assert Lead.objects.get(pk=leads[0].pk).status == "new"
    # And the tenant's own URL is closed to them.
    assert client.post(url(tenant), {"action": "export_csv", "scope": "filter"}).status_code == 404


# --- API -------------------------------------------------------------------------------------------


def test_api_bulk_status_with_mixed_results(client, manager, leads):
    response = client.post(
        API,
        {"action": "status", "ids": [lead.pk for lead in leads], "to": "qualifying"},
        content_type="application/json",
        headers=bearer(manager),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["done"] == 3 and body["refused"] == 1
    refusal = body["refusals"][0]
    assert refusal["lead_id"] == leads[3].pk and "cannot become Qualifying" in refusal["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "status", "to": "lost"}, "reason_id"),
        ({"action": "status", "to": "nurture", "recontact_on": "2020-01-01"}, "recontact_on"),
        ({"action": "status"}, "to"),
        ({"action": "assign"}, "owner_id"),
        ({"action": "assign", "owner_id": 999999}, "owner_id"),
        ({"action": "follow_up"}, "due_at"),
        ({"action": "dance"}, "action"),
        ({"action": "status", "to": "qualifying", "ids": []}, "ids"),
    ],
)
def test_api_bad_input_is_a_422_naming_the_field(client, manager, leads, payload, field):
    body = {"ids": [lead.pk for lead in leads], **payload}
    assignments = LeadEvent.objects.filter(kind="assignment").count()  # the accepted lead's, taken on by accepting
    response = client.post(API, body, content_type="application/json", headers=bearer(manager))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert LeadEvent.objects.filter(kind="assignment").count() == assignments
    assert set(Lead.objects.values_list("status", flat=True)) == {"new", "accepted"}


def test_api_filter_and_cap(client, manager, leads, monkeypatch):
    headers = bearer(manager)
    body = {"action": "status", "filter": {"view": "all", "status": "new"}, "to": "qualifying"}
    response = client.post(API, body, content_type="application/json", headers=headers)
    assert response.json()["done"] == 3
    monkeypatch.setattr(bulk, "BULK_LIMIT", 2)
    body = {"action": "status", "filter": {"view": "all"}, "to": "qualified"}
    response = client.post(API, body, content_type="application/json", headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "scope"


def test_api_walls(client, tenant, manager, marketing, outsider, leads):
    body = {"action": "status", "ids": [leads[0].pk], "to": "qualifying"}
    assert client.post(API, body, content_type="application/json", headers=bearer(marketing)).status_code == 403
    response = client.post(API, body, content_type="application/json", headers=bearer(outsider))
    assert response.status_code == 200 and response.json()["refusals"][0]["message"] == "Lead not found."
    assert Lead.objects.get(pk=leads[0].pk).status == "new"


def _ids_from(number: int, model=Lead) -> None:
    """The next row of the model gets this id (the demo's leads run into the thousands)."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, number])
        else:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [number - 1, table])


@pytest.mark.parametrize("language", ["de", "en"])
def test_bulk_form_carries_ids_in_the_thousands_without_separators(client, tenant, manager, interest, language):
    manager.user.language = language
    manager.user.save(update_fields=["language"])
    capture(manager, "Erster", interest)  # makes sure the table has its sequence row
    _ids_from(1009)
    lead = capture(manager, "Wagner", interest)
    assert lead.pk == 1009
    login(client, manager)
    step1 = client.post(url(tenant), {"action": "status", "scope": "selected", "ids": [lead.pk], "view": "all"})
    assert '<input type="hidden" name="ids" value="1009">' in step1.content.decode()
    data = {
        "action": "status",
        "scope": "selected",
        "ids": ["1009"],
        "view": "all",
        "step": "apply",
        "to": "qualifying",
    }
    done = client.post(url(tenant), data)
    assert done.status_code == 200 and done.context["outcome"].done == [1009]
    lead.refresh_from_db()
    assert lead.status == "qualifying"
