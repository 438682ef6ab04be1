"""Every tenant URL, for every role and for an outsider: exactly what the role allows, 404 otherwise."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts import services
from leadwerk.accounts.models import Membership
from leadwerk.accounts.roles import Role

ALL = set(Role.values)
LIST_PAGES = {
    "accounts:overview": ALL,
    "accounts:member_list": {Role.ADMIN, Role.MANAGER},
    "accounts:member_invite": {Role.ADMIN},
    "accounts:team_list": {Role.ADMIN, Role.MANAGER},
    "accounts:team_create": {Role.ADMIN},
    "accounts:token_list": ALL,
    "accounts:audit_list": {Role.ADMIN, Role.PRIVACY},
    "accounts:tenant_settings": {Role.ADMIN},
}


@pytest.mark.parametrize("name", sorted(LIST_PAGES))
def test_each_role_gets_exactly_its_pages(client, members_by_role, name):
    url = reverse(name, kwargs={"tenant": "nordstern"})
    for role, membership in members_by_role.items():
        client.force_login(membership.user)
        expected = 200 if role in LIST_PAGES[name] else 404
        assert client.get(url).status_code == expected, f"{role} on {name}"


@pytest.mark.parametrize("name", sorted(LIST_PAGES))
def test_outsider_gets_404_on_every_tenant_page(client, tenant, outsider, name):
    login(client, outsider)
    assert client.get(reverse(name, kwargs={"tenant": tenant.slug})).status_code == 404


def test_anonymous_is_sent_to_login(client, tenant):
    response = client.get(reverse("accounts:overview", kwargs={"tenant": tenant.slug}))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_unknown_tenant_is_404(client, admin):
    login(client, admin)
    assert client.get("/no-such-tenant/").status_code == 404


@pytest.fixture
def objects(tenant, admin, sales):
    team = TeamFactory(tenant=tenant, name="Vertrieb Nord")
    invitation, _ = services.member_invite(by=admin, email="new@nordstern.test", role=Role.SALES)
    token, _ = services.token_create(membership=sales, name="ERP")
    return {"member": sales, "team": team, "invitation": invitation, "token": token}


OBJECT_URLS = [
    ("accounts:member_edit", "member", "get"),
    ("accounts:member_deactivate", "member", "get"),
    ("accounts:member_reactivate", "member", "post"),
    ("accounts:team_edit", "team", "get"),
    ("accounts:team_delete", "team", "post"),
    ("accounts:invitation_revoke", "invitation", "post"),
    ("accounts:token_revoke", "token", "post"),
]


@pytest.mark.parametrize(("name", "kind", "method"), OBJECT_URLS)
def test_objects_of_another_tenant_are_404(client, objects, outsider, name, kind, method):
    """The outsider is admin in its own tenant and uses its own tenant slug with our ids."""
    login(client, outsider)
    url = reverse(name, kwargs={"tenant": outsider.tenant.slug, "pk": objects[kind].pk})
    assert getattr(client, method)(url).status_code == 404


@pytest.mark.parametrize(("name", "kind", "method"), OBJECT_URLS)
def test_objects_are_404_for_unprivileged_roles(client, objects, agent, name, kind, method):
    login(client, agent)
    url = reverse(name, kwargs={"tenant": "nordstern", "pk": objects[kind].pk})
    assert getattr(client, method)(url).status_code == 404


def test_manager_reads_members_but_cannot_edit(client, manager, sales):
    login(client, manager)
    assert client.get(reverse("accounts:member_list", kwargs={"tenant": "nordstern"})).status_code == 200
    assert (
        client.get(reverse("accounts:member_edit", kwargs={"tenant": "nordstern", "pk": sales.pk})).status_code == 404
    )


def test_someone_elses_token_is_404_even_in_same_tenant(client, objects, marketing):
    login(client, marketing)
    url = reverse("accounts:token_revoke", kwargs={"tenant": "nordstern", "pk": objects["token"].pk})
    assert client.post(url).status_code == 404
    objects["token"].refresh_from_db()
    assert objects["token"].revoked_at is None


def test_deactivated_member_loses_access_at_once(client, admin, sales):
    login(client, sales)
    url = reverse("accounts:overview", kwargs={"tenant": "nordstern"})
    assert client.get(url).status_code == 200
    services.membership_deactivate(membership=sales, by=admin)
    response = client.get(url)
    # No other tenant left: the session itself has ended, so the user is sent to login.
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_deactivation_keeps_sessions_for_other_tenants(client, admin, sales, other_tenant):
    MembershipFactory(tenant=other_tenant, user=sales.user, role=Role.SALES)
    login(client, sales)
    services.membership_deactivate(membership=sales, by=admin)
    assert client.get(reverse("accounts:overview", kwargs={"tenant": "nordstern"})).status_code == 404
    assert client.get(reverse("accounts:overview", kwargs={"tenant": other_tenant.slug})).status_code == 200


def test_member_list_query_count_is_flat(client, admin, tenant, django_assert_max_num_queries):
    MembershipFactory.create_batch(30, tenant=tenant)
    login(client, admin)
    url = reverse("accounts:member_list", kwargs={"tenant": "nordstern"})
    client.get(url)  # warm caches (content types, session)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b'class="avatar avatar-small"') == 25  # first page


def test_member_search_filters_and_renders_partial_for_htmx(client, admin, sales):
    login(client, admin)
    url = reverse("accounts:member_list", kwargs={"tenant": "nordstern"})
    response = client.get(url, {"q": sales.user.email}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert sales.user.email.encode() in response.content
    assert admin.user.email.encode() not in response.content


def test_tenant_switcher_lists_only_own_tenants(client, admin, other_tenant, outsider):
    MembershipFactory(tenant=other_tenant, user=admin.user, role=Role.MARKETING)
    login(client, admin)
    html = client.get(reverse("accounts:overview", kwargs={"tenant": "nordstern"})).content.decode()
    assert f"/{other_tenant.slug}/" in html
    # The home page offers the choice when there are several tenants.
    home = client.get("/")
    assert home.status_code == 200
    assert "Datavia" in home.content.decode()


def test_single_tenant_user_goes_straight_to_overview(client, manager):
    login(client, manager)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:overview", kwargs={"tenant": "nordstern"})


def test_single_tenant_sales_user_and_agent_start_on_my_day(client, sales, agent):
    for member in (sales, agent):
        login(client, member)
        assert client.get("/")["Location"] == reverse("leads:my_day", kwargs={"tenant": "nordstern"})


def test_navigation_shows_only_allowed_areas(client, agent, admin):
    login(client, agent)
    html = client.get("/nordstern/").content.decode()
    assert "/nordstern/members/" not in html
    assert "/nordstern/audit/" not in html
    assert "/nordstern/tokens/" in html
    login(client, admin)
    html = client.get("/nordstern/").content.decode()
    assert "/nordstern/members/" in html and "/nordstern/settings/" in html


def test_membership_rows_stay_in_tenant(admin, outsider):
    assert set(Membership.objects.visible_to(admin)) == {admin}
    assert list(Membership.objects.visible_to(None)) == []
