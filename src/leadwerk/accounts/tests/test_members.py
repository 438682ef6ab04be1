"""Inviting, accepting, changing and deactivating members; teams; tenant settings; audit."""

from __future__ import annotations

import re

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import TeamFactory

from leadwerk.accounts import services
from leadwerk.accounts.exceptions import AlreadyMember, InvitationInvalid, LastAdmin, NotAllowed
from leadwerk.accounts.models import ApiToken, AuditEntry, Invitation, Membership, Team, User
from leadwerk.accounts.roles import Role
from leadwerk.core.exceptions import ValidationFailed


def _link_from(mail) -> str:
    return re.search(r"http://\S+/invitations/(\S+)/", mail.body).group(1)


def test_invitation_mail_carries_a_one_time_link(client, admin, mailoutbox, django_capture_on_commit_callbacks):
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:member_invite", kwargs={"tenant": "nordstern"}),
            {"email": "Neu@Nordstern.test ", "role": Role.SALES},
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["neu@nordstern.test"]
    assert "Nordstern" in mailoutbox[0].subject
    token = _link_from(mailoutbox[0])
    client.logout()
    page = client.get(reverse("accounts:invitation_accept", kwargs={"token": token}))
    assert page.status_code == 200
    response = client.post(
        reverse("accounts:invitation_accept", kwargs={"token": token}),
        {"full_name": "Nina Neu", "password": "a-long-unusual-passphrase"},
    )
    assert response.status_code == 302
    member = Membership.objects.get(user__email="neu@nordstern.test")
    assert member.role == Role.SALES and member.tenant == admin.tenant
    # The link works once.
    assert client.get(reverse("accounts:invitation_accept", kwargs={"token": token})).status_code == 404
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token=token, full_name="X", password="a-long-unusual-passphrase")


def test_invite_form_shows_field_errors_and_saves_nothing(client, admin):
    login(client, admin)
    response = client.post(
        reverse("accounts:member_invite", kwargs={"tenant": "nordstern"}), {"email": "not-an-email", "role": "boss"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "email" in form.errors and "role" in form.errors
    assert not Invitation.objects.exists()


def test_inviting_an_active_member_is_refused_on_the_field(client, admin, sales):
    login(client, admin)
    response = client.post(
        reverse("accounts:member_invite", kwargs={"tenant": "nordstern"}),
        {"email": sales.user.email, "role": Role.AGENT},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]


def test_weak_password_on_accept_is_a_field_error(client, admin):
    _, token = services.member_invite(by=admin, email="weak@nordstern.test", role=Role.AGENT)
    response = client.post(
        reverse("accounts:invitation_accept", kwargs={"token": token}), {"full_name": "W", "password": "123"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(email="weak@nordstern.test").exists()


def test_existing_user_accepts_while_logged_in(client, admin, outsider):
    _, token = services.member_invite(by=admin, email=outsider.user.email, role=Role.MARKETING)
    login(client, outsider)
    response = client.post(reverse("accounts:invitation_accept", kwargs={"token": token}))
    assert response.status_code == 302
    assert Membership.objects.get(user=outsider.user, tenant=admin.tenant).role == Role.MARKETING


def test_invitation_for_someone_else_is_refused(client, admin, outsider):
    _, token = services.member_invite(by=admin, email="someone@else.test", role=Role.MARKETING)
    login(client, outsider)
    response = client.post(reverse("accounts:invitation_accept", kwargs={"token": token}))
    assert response.status_code == 200
    assert not Membership.objects.filter(user=outsider.user, tenant=admin.tenant).exists()


def test_revoked_invitation_cannot_be_used(admin):
    invitation, token = services.member_invite(by=admin, email="r@nordstern.test", role=Role.AGENT)
    services.invitation_revoke(invitation=invitation, by=admin)
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token=token, full_name="R", password="a-long-unusual-passphrase")


def test_only_admins_invite(manager):
    with pytest.raises(NotAllowed):
        services.member_invite(by=manager, email="x@nordstern.test", role=Role.AGENT)


def test_last_admin_cannot_be_demoted_or_deactivated(admin):
    with pytest.raises(LastAdmin):
        services.membership_update(membership=admin, by=admin, role=Role.SALES, team=None)
    with pytest.raises(LastAdmin):
        services.membership_deactivate(membership=admin, by=admin)
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and admin.is_active


def test_admin_changes_role_and_team_in_the_ui(client, admin, sales, tenant):
    team = TeamFactory(tenant=tenant, name="Flotte")
    login(client, admin)
    url = reverse("accounts:member_edit", kwargs={"tenant": "nordstern", "pk": sales.pk})
    assert client.post(url, {"role": Role.AGENT, "team": team.pk}).status_code == 302
    sales.refresh_from_db()
    assert sales.role == Role.AGENT and sales.team == team


def test_team_of_another_tenant_is_rejected(client, admin, sales, other_tenant):
    foreign = TeamFactory(tenant=other_tenant)
    login(client, admin)
    url = reverse("accounts:member_edit", kwargs={"tenant": "nordstern", "pk": sales.pk})
    response = client.post(url, {"role": Role.SALES, "team": foreign.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["team"]


def test_deactivation_revokes_tokens_and_reactivation_restores_access(admin, sales):
    token, raw = services.token_create(membership=sales, name="ERP")
    services.membership_deactivate(membership=sales, by=admin)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.token_authenticate(raw=raw) is None
    services.membership_reactivate(membership=sales, by=admin)
    assert Membership.objects.get(pk=sales.pk).is_active


def test_team_names_are_unique_per_tenant_case_insensitively(admin, outsider):
    services.team_create(by=admin, name="Vertrieb Nord")
    with pytest.raises(ValidationFailed) as exc:
        services.team_create(by=admin, name="vertrieb  nord")
    assert exc.value.field == "name"
    # Another tenant may use the same name.
    services.team_create(by=outsider, name="Vertrieb Nord")


def test_team_create_and_delete_in_the_ui(client, admin, sales):
    login(client, admin)
    response = client.post(reverse("accounts:team_create", kwargs={"tenant": "nordstern"}), {"name": "", "lead": ""})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = client.post(
        reverse("accounts:team_create", kwargs={"tenant": "nordstern"}), {"name": "Call Center", "lead": sales.pk}
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Call Center")
    assert team.lead == sales
    sales.team = team
    sales.save()
    client.post(reverse("accounts:team_delete", kwargs={"tenant": "nordstern", "pk": team.pk}))
    assert not Team.objects.filter(pk=team.pk).exists()
    sales.refresh_from_db()
    assert sales.team is None and sales.is_active


def test_tenant_settings_validate_and_save(client, admin, tenant):
    login(client, admin)
    url = reverse("accounts:tenant_settings", kwargs={"tenant": "nordstern"})
    data = {"name": "Nordstern AG", "locale": "de", "timezone": "Europe/Berlin", "country": "Deutschland"}
    response = client.post(url, data)
    assert response.status_code == 200 and response.context["form"].errors["country"]
    tenant.refresh_from_db()
    assert tenant.name == "Nordstern Automobile AG"
    data["country"] = "de"
    assert client.post(url, data | {"require_mfa": "on"}).status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "Nordstern AG" and tenant.country == "DE" and tenant.require_mfa


def test_changes_are_audited_with_actor_and_tenant(client, admin, sales, outsider):
    login(client, admin)
    client.post(reverse("accounts:member_edit", kwargs={"tenant": "nordstern", "pk": sales.pk}), {"role": Role.AGENT})
    entry = AuditEntry.objects.filter(object_pk=str(sales.pk), content_type__model="membership").latest()
    assert entry.actor == admin.user
    assert entry.tenant_id == admin.tenant_id
    assert entry.changes_dict["role"] == ["sales", "agent"]
    # The audit page shows it to the admin; the outsider's audit log does not.
    assert (
        sales.user.full_name.encode()
        in client.get(reverse("accounts:audit_list", kwargs={"tenant": "nordstern"})).content
    )
    assert not AuditEntry.objects.visible_to(outsider).filter(pk=entry.pk).exists()


def test_api_token_key_is_never_stored(sales):
    token, raw = services.token_create(membership=sales, name="Web form")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.key_hash, stored.prefix)
    assert raw.startswith(f"lw_{stored.prefix}_")


def test_token_page_shows_new_key_once(client, sales):
    login(client, sales)
    url = reverse("accounts:token_list", kwargs={"tenant": "nordstern"})
    response = client.post(url, {"name": "ERP sync"})
    assert response.status_code == 200
    key = response.context["created_key"]
    assert key and key.encode() in response.content
    assert key.encode() not in client.get(url).content
    response = client.post(url, {"name": "   "})
    assert response.context["form"].errors["name"]


def test_duplicate_active_membership_via_invitation_is_refused(admin, sales):
    _, token = services.member_invite(by=admin, email="fresh@nordstern.test", role=Role.AGENT)
    services.invitation_accept(token=token, full_name="Fresh", password="a-long-unusual-passphrase")
    with pytest.raises(AlreadyMember):
        services.member_invite(by=admin, email="fresh@nordstern.test", role=Role.AGENT)


def test_admin_cannot_revoke_tokens_of_another_tenant(admin, outsider):
    token, _ = services.token_create(membership=outsider, name="foreign")
    with pytest.raises(NotAllowed):
        services.token_revoke(token=token, by=admin)


def test_reserved_and_malformed_slugs_are_refused(db):
    for slug in ("api", "admin", "-bad", "Has Space"):
        with pytest.raises(ValidationFailed) as exc:
            services.tenant_create(name="X", slug=slug)
        assert exc.value.field == "slug"


def test_platform_staff_without_membership_see_no_tenant(client, tenant, admin):
    staff = User.objects.create_superuser("root@platform.test", "a-long-unusual-passphrase")
    client.force_login(staff)
    assert client.get(reverse("accounts:overview", kwargs={"tenant": tenant.slug})).status_code == 404
    assert client.get("/api/v1/me", headers={"X-Tenant": tenant.slug}).status_code == 404


def test_health_check_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_operator_creates_a_tenant_and_invites_its_first_admin(
    client, db, mailoutbox, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("createtenant", name="Example GmbH", slug="example", admin="Boss@Example.test", stdout=out)
    token = re.search(r"/invitations/(\S+)/", out.getvalue()).group(1)
    assert mailoutbox[0].to == ["boss@example.test"]
    client.post(
        reverse("accounts:invitation_accept", kwargs={"token": token}),
        {"full_name": "Boss", "password": "a-long-unusual-passphrase"},
    )
    assert Membership.objects.get(user__email="boss@example.test").role == Role.ADMIN
    with pytest.raises(CommandError, match="slug"):
        call_command("createtenant", name="Again", slug="example", admin="x@example.test", stdout=StringIO())
