"""Standing fixtures (see ../shared/STYLE.md): a tenant with one member per role, and an outsider."""

from __future__ import annotations

import pytest
from tests.factories import MembershipFactory, TenantFactory

from leadwerk.accounts.roles import Role


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in the default language: a request as a German user leaves German active in the
    thread (in the server the next request's middleware sets its own), which would leak into the next test."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _config_shared_clear():
    """Each test starts without shared configuration answers: rolled back between tests, a tenant id comes back
    with other rules, and a stamp read in one test must not find the answers of another."""
    from leadwerk.core.memo import config_shared_clear

    config_shared_clear()


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Nordstern Automobile AG", slug="nordstern")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Datavia Systems GmbH", slug="datavia")


def _member(tenant, role, **kwargs):
    return MembershipFactory(tenant=tenant, role=role, **kwargs)


@pytest.fixture
def admin(tenant):
    return _member(tenant, Role.ADMIN, user__email="admin@nordstern.test")


@pytest.fixture
def manager(tenant):
    return _member(tenant, Role.MANAGER, user__email="manager@nordstern.test")


@pytest.fixture
def marketing(tenant):
    return _member(tenant, Role.MARKETING)


@pytest.fixture
def agent(tenant):
    return _member(tenant, Role.AGENT)


@pytest.fixture
def sales(tenant):
    return _member(tenant, Role.SALES)


@pytest.fixture
def partner_user(tenant):
    return _member(tenant, Role.PARTNER)


@pytest.fixture
def privacy(tenant):
    return _member(tenant, Role.PRIVACY)


@pytest.fixture
def outsider(other_tenant):
    """An admin — of another tenant. Must see nothing of ``tenant``."""
    return _member(other_tenant, Role.ADMIN, user__email="outsider@datavia.test")


@pytest.fixture
def members_by_role(admin, manager, marketing, agent, sales, partner_user, privacy):
    return {
        Role.ADMIN: admin,
        Role.MANAGER: manager,
        Role.MARKETING: marketing,
        Role.AGENT: agent,
        Role.SALES: sales,
        Role.PARTNER: partner_user,
        Role.PRIVACY: privacy,
    }


def bearer(membership) -> dict:
    """Authorization header with a fresh personal API token of the membership."""
    from leadwerk.accounts.services import token_create

    _, raw = token_create(membership=membership, name="test")
    return {"Authorization": f"Bearer {raw}"}


def login(client, membership):
    client.force_login(membership.user)
    return client
