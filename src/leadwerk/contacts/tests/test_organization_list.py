"""The organisation list: filters, export and the filtered API listing."""

from __future__ import annotations

import pytest
from conftest import bearer, login
from django.urls import reverse
from tests.factories import OrganizationFactory

from leadwerk.accounts.models import AuditEntry
from leadwerk.contacts.models import Organization, OrganizationTag, Tag


@pytest.fixture
def orgs(tenant, other_tenant):
    made = [
        OrganizationFactory(
            tenant=tenant, name=name, name_key=name.lower(), industry_code=wz, employees=size, legal_form=form
        )
        for name, wz, size, form in [
            ("Autohaus Nord", "45.11", "10-49", "GmbH"),
            ("Autohaus Süd", "45.11", "50-249", "GmbH"),
            ("=HYPERLINK Werkstatt", "45.20", "1-9", "e.K."),
            ("Datenwerk", "62.01", "50-249", "AG"),
        ]
    ]
    tag = Tag.objects.create(tenant=tenant, name="Händler")
    OrganizationTag.objects.create(tenant=tenant, organization=made[0], tag=tag)
    OrganizationFactory(tenant=other_tenant, name="Autohaus Fremd", name_key="autohaus fremd", industry_code="45.11")
    return made


def list_names(client, tenant, **params):
    response = client.get(reverse("contacts:organization_list", kwargs={"tenant": tenant.slug}), params)
    assert response.status_code == 200
    return {o.name for o in response.context["page"].items}


def test_filters_narrow_the_list(client, tenant, manager, orgs):
    login(client, manager)
    assert list_names(client, tenant, industry="45.1") == {"Autohaus Nord", "Autohaus Süd"}
    assert list_names(client, tenant, industry="45") == {"Autohaus Nord", "Autohaus Süd", "=HYPERLINK Werkstatt"}
    assert list_names(client, tenant, employees="50-249") == {"Autohaus Süd", "Datenwerk"}
    assert list_names(client, tenant, legal_form="AG") == {"Datenwerk"}
    assert list_names(client, tenant, tag="Händler") == {"Autohaus Nord"}
    assert list_names(client, tenant, q="autohaus", employees="10-49") == {"Autohaus Nord"}


def test_bad_filter_shows_an_error_not_everything(client, tenant, manager, orgs):
    login(client, manager)
    response = client.get(reverse("contacts:organization_list", kwargs={"tenant": tenant.slug}), {"industry": "x;--"})
    assert "Enter a WZ 2008 code or prefix." in response.content.decode()


def test_export_uses_the_filter_is_injection_safe_and_audited(client, tenant, manager, orgs):
    login(client, manager)
    url = reverse("contacts:organization_export", kwargs={"tenant": tenant.slug})
    response = client.get(url, {"industry": "45", "format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Autohaus Nord" in body and "Datenwerk" not in body and "Fremd" not in body
    assert "'=HYPERLINK Werkstatt" in body
    assert "10–49" in body  # bands in their display form
    entry = AuditEntry.objects.get(tenant=tenant, action=AuditEntry.Action.ACCESS)
    assert entry.additional_data["filters"] == {"industry": "45"}


def test_export_refuses_an_invalid_filter(client, tenant, manager, orgs):
    login(client, manager)
    url = reverse("contacts:organization_export", kwargs={"tenant": tenant.slug})
    response = client.get(url, {"industry": "x;--"})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.ACCESS).exists()


@pytest.mark.parametrize("who", ["privacy", "agent", "sales", "partner_user", "outsider"])
def test_export_is_404_for_other_roles_and_tenants(client, request, tenant, orgs, who):
    login(client, request.getfixturevalue(who))
    assert client.get(reverse("contacts:organization_export", kwargs={"tenant": tenant.slug})).status_code == 404


def test_api_filters_and_validates(client, tenant, marketing, outsider, orgs):
    headers = bearer(marketing)
    response = client.get("/api/v1/organizations", {"industry": "45.11", "employees": "50-249"}, headers=headers)
    assert [o["name"] for o in response.json()["items"]] == ["Autohaus Süd"]
    bad = client.get("/api/v1/organizations", {"employees": "huge"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "employees"
    foreign = client.get("/api/v1/organizations", {"industry": "45"}, headers=bearer(outsider)).json()["items"]
    assert [o["name"] for o in foreign] == ["Autohaus Fremd"]
    assert Organization.objects.count() == 5
