"""Login, 2FA requirement per tenant, language choice, guessing throttled."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from conftest import login
from django.test import Client, override_settings
from django.urls import reverse

from leadwerk.accounts.roles import Role


def test_login_by_email_and_password(client, admin):
    response = client.post(reverse("account_login"), {"login": admin.user.email, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # one tenant: straight to it


def test_sign_up_is_closed(client, db):
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code in (302, 403, 404)
    response = client.post(reverse("account_signup"), {"email": "x@y.test", "password1": "a-long-unusual-passphrase"})
    from leadwerk.accounts.models import User

    assert not User.objects.filter(email="x@y.test").exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_required_2fa_blocks_admins_and_managers_without_it(client, tenant, role, members_by_role):
    tenant.require_mfa = True
    tenant.save()
    member = members_by_role[role]
    login(client, member)
    response = client.get("/nordstern/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The API says so too, for session calls.
    assert client.get("/api/v1/me", headers={"X-Tenant": "nordstern"}).status_code == 403
    Authenticator.objects.create(user=member.user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get("/nordstern/").status_code == 200


def test_required_2fa_does_not_apply_to_other_roles(client, tenant, sales):
    tenant.require_mfa = True
    tenant.save()
    login(client, sales)
    assert client.get("/nordstern/").status_code == 200


def test_language_choice_is_stored_on_the_user(client, sales):
    login(client, sales)
    response = client.post(reverse("language_set"), {"language": "de", "next": "/nordstern/"})
    assert response.status_code == 302 and response["Location"] == "/nordstern/"
    sales.user.refresh_from_db()
    assert sales.user.language == "de"
    html = client.get("/nordstern/", headers={"Accept-Language": "en"}).content.decode()
    assert 'lang="de"' in html
    assert "Übersicht" in html


def test_browser_language_is_the_default(client, sales):
    login(client, sales)
    assert 'lang="de"' in client.get("/nordstern/", headers={"Accept-Language": "de-DE,de;q=0.9"}).content.decode()
    assert 'lang="en"' in client.get("/nordstern/", headers={"Accept-Language": "en-US"}).content.decode()


def test_language_switch_refuses_foreign_redirects(client, db):
    response = client.post(reverse("language_set"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_password_guessing_is_locked_out(admin):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(3):
        client.post(reverse("account_login"), {"login": admin.user.email, "password": "wrong-password"})
    response = client.post(reverse("account_login"), {"login": admin.user.email, "password": "correct-horse-battery"})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_csp_header_forbids_inline_scripts(client, admin):
    login(client, admin)
    csp = client.get("/nordstern/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
