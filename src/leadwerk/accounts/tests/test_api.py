"""API: token and session auth, the error shape, scoping and role walls."""

from __future__ import annotations

import pytest
from conftest import bearer
from django.test import Client
from tests.factories import TeamFactory

from leadwerk.accounts import services
from leadwerk.accounts.models import AuditEntry, Membership, Team
from leadwerk.accounts.roles import Role


def test_token_authenticates_and_binds_tenant(client, admin):
    response = client.get("/api/v1/me", headers=bearer(admin))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == admin.user.email
    assert body["membership"]["tenant"]["slug"] == "nordstern"
    assert body["membership"]["role"] == "admin"
    assert body["via_token"] is True


def test_missing_or_bad_token_is_401_with_error_shape(client, admin):
    for headers in ({}, {"Authorization": "Bearer lw_nope_nope"}, {"Authorization": "Bearer garbage"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"detail", "errors"}


def test_revoked_token_stops_working_at_once(client, admin):
    token, raw = services.token_create(membership=admin, name="ERP")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/tenant", headers=headers).status_code == 200
    services.token_revoke(token=token, by=admin)
    assert client.get("/api/v1/tenant", headers=headers).status_code == 401


def test_token_records_last_use(client, sales):
    token, raw = services.token_create(membership=sales, name="ERP")
    assert token.last_used_at is None
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_expired_token_is_refused(client, sales):
    from datetime import timedelta

    from django.utils import timezone

    token, raw = services.token_create(membership=sales, name="short", expires_at=timezone.now() + timedelta(hours=1))
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_session_auth_needs_tenant_header_and_csrf(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin.user)
    assert client.get("/api/v1/me").status_code == 404
    response = client.get("/api/v1/me", headers={"X-Tenant": "nordstern"})
    assert response.status_code == 200 and response.json()["via_token"] is False
    # Writes need the CSRF token like any form.
    response = client.post(
        "/api/v1/teams", {"name": "X"}, content_type="application/json", headers={"X-Tenant": "nordstern"}
    )
    assert response.status_code in (401, 403)
    assert not Team.objects.exists()


def test_session_for_a_foreign_tenant_is_404(outsider):
    client = Client()
    client.force_login(outsider.user)
    assert client.get("/api/v1/me", headers={"X-Tenant": "nordstern"}).status_code == 404


def test_member_list_is_paginated_and_filtered(client, admin, members_by_role):
    response = client.get("/api/v1/members", {"limit": 3}, headers=bearer(admin))
    body = response.json()
    assert body["count"] == len(members_by_role)
    assert len(body["items"]) == 3
    response = client.get("/api/v1/members", {"role": "sales"}, headers=bearer(admin))
    assert [item["role"] for item in response.json()["items"]] == ["sales"]


def test_unprivileged_role_sees_only_itself(client, agent, admin):
    body = client.get("/api/v1/members", headers=bearer(agent)).json()
    assert [item["id"] for item in body["items"]] == [agent.pk]
    assert client.get(f"/api/v1/members/{admin.pk}", headers=bearer(agent)).status_code == 404


@pytest.fixture
def foreign(other_tenant, outsider):
    return {"member": outsider, "team": TeamFactory(tenant=other_tenant)}


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/api/v1/members/{member}", None),
        ("patch", "/api/v1/members/{member}", {"role": "sales"}),
        ("post", "/api/v1/members/{member}/deactivate", None),
        ("post", "/api/v1/members/{member}/reactivate", None),
        ("get", "/api/v1/teams/{team}", None),
        ("put", "/api/v1/teams/{team}", {"name": "Mine now"}),
        ("delete", "/api/v1/teams/{team}", None),
    ],
)
def test_objects_of_another_tenant_are_404(client, admin, foreign, method, path, payload):
    url = path.format(member=foreign["member"].pk, team=foreign["team"].pk)
    kwargs = {"data": payload, "content_type": "application/json"} if payload is not None else {}
    response = getattr(client, method)(url, headers=bearer(admin), **kwargs)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("patch", "/api/v1/members/{member}", {"role": "admin"}),
        ("post", "/api/v1/members/{member}/deactivate", None),
        ("put", "/api/v1/teams/{team}", {"name": "Mine now"}),
        ("delete", "/api/v1/teams/{team}", None),
        ("delete", "/api/v1/invitations/{invitation}", None),
    ],
)
@pytest.mark.parametrize("role", [Role.MANAGER, Role.MARKETING, Role.AGENT, Role.SALES, Role.PARTNER, Role.PRIVACY])
def test_admin_objects_are_404_for_other_roles(client, tenant, admin, role, method, path, payload):
    caller = Membership.objects.create(
        tenant=tenant, user=admin.user.__class__.objects.create_user(f"{role}@x.test"), role=role
    )
    target = Membership.objects.create(
        tenant=tenant, user=admin.user.__class__.objects.create_user("t@x.test"), role=Role.SALES
    )
    team = TeamFactory(tenant=tenant)
    invitation, _ = services.member_invite(by=admin, email="inv@x.test", role=Role.AGENT)
    url = path.format(member=target.pk, team=team.pk, invitation=invitation.pk)
    kwargs = {"data": payload, "content_type": "application/json"} if payload is not None else {}
    assert getattr(client, method)(url, headers=bearer(caller), **kwargs).status_code == 404
    target.refresh_from_db()
    assert target.role == Role.SALES and target.is_active


def test_non_admin_cannot_create_team(client, manager):
    response = client.post(
        "/api/v1/teams", {"name": "Shadow"}, content_type="application/json", headers=bearer(manager)
    )
    assert response.status_code == 403
    assert not Team.objects.exists()


def test_validation_errors_are_422_with_field_names(client, admin):
    response = client.post("/api/v1/teams", {"name": ""}, content_type="application/json", headers=bearer(admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    response = client.post(
        "/api/v1/invitations",
        {"email": "nope", "role": "sales"},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"
    response = client.post(
        "/api/v1/invitations",
        {"email": "a@b.test", "role": "king"},
        content_type="application/json",
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


def test_conflicts_are_409(client, admin):
    headers = bearer(admin)
    response = client.patch(
        f"/api/v1/members/{admin.pk}", {"role": "sales"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "role"


def test_team_crud_through_the_api(client, admin, sales):
    headers = bearer(admin)
    response = client.post(
        "/api/v1/teams", {"name": "Inside Sales", "lead_id": sales.pk}, content_type="application/json", headers=headers
    )
    assert response.status_code == 201
    team_id = response.json()["id"]
    response = client.put(
        f"/api/v1/teams/{team_id}", {"name": "Inside Sales DACH"}, content_type="application/json", headers=headers
    )
    assert response.json()["name"] == "Inside Sales DACH" and response.json()["lead_id"] is None
    response = client.patch(
        f"/api/v1/members/{sales.pk}", {"team_id": team_id}, content_type="application/json", headers=headers
    )
    assert response.json()["team"]["id"] == team_id
    assert client.delete(f"/api/v1/teams/{team_id}", headers=headers).status_code == 204
    assert not Team.objects.filter(pk=team_id).exists()


def test_api_changes_are_audited_with_the_token(client, admin, sales):
    token, raw = services.token_create(membership=admin, name="Provisioning")
    client.patch(
        f"/api/v1/members/{sales.pk}",
        {"role": "agent"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    entry = AuditEntry.objects.filter(content_type__model="membership", object_pk=str(sales.pk)).latest()
    assert entry.actor == admin.user
    assert entry.api_token == token


def test_invitation_through_api_sends_mail(client, admin, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/invitations",
            {"email": "api@nordstern.test", "role": "agent"},
            content_type="application/json",
            headers=bearer(admin),
        )
    assert response.status_code == 201
    assert mailoutbox[0].to == ["api@nordstern.test"]
    listed = client.get("/api/v1/invitations", headers=bearer(admin)).json()
    assert [item["email"] for item in listed["items"]] == ["api@nordstern.test"]


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/members" in response.json()["paths"]


def test_required_2fa_also_applies_to_tokens(client, tenant, admin):
    headers = bearer(admin)
    tenant.require_mfa = True
    tenant.save()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_field_errors_use_the_api_input_names(client, admin, sales):
    from leadwerk.accounts.services import membership_deactivate

    membership_deactivate(membership=sales, by=admin)
    response = client.post(
        "/api/v1/teams", {"name": "Flotte", "lead_id": sales.pk}, content_type="application/json", headers=bearer(admin)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lead_id"
    assert not Team.objects.exists()


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_exactly_its_share_through_the_api(client, tenant, members_by_role, role):
    caller = members_by_role[role]
    team = TeamFactory(tenant=tenant, name="Vertrieb Nord")
    caller.team = team
    caller.save()
    services.member_invite(by=members_by_role[Role.ADMIN], email="pending@nordstern.test", role=Role.AGENT)
    headers = bearer(caller)
    tenant_wide = role in (Role.ADMIN, Role.MANAGER)

    assert client.get("/api/v1/me", headers=headers).json()["membership"]["role"] == role
    assert client.get("/api/v1/tenant", headers=headers).json()["slug"] == "nordstern"
    members = client.get("/api/v1/members", headers=headers).json()
    assert members["count"] == (len(members_by_role) if tenant_wide else 1)
    teams = client.get("/api/v1/teams", headers=headers).json()
    assert [t["name"] for t in teams["items"]] == ["Vertrieb Nord"]  # tenant-wide, or the caller's own team
    invitations = client.get("/api/v1/invitations", headers=headers).json()
    assert invitations["count"] == (1 if role == Role.ADMIN else 0)


def test_member_without_team_sees_no_teams(client, tenant, sales):
    TeamFactory(tenant=tenant, name="Other")
    assert client.get("/api/v1/teams", headers=bearer(sales)).json()["count"] == 0
