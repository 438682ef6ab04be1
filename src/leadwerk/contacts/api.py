"""API of the marketing database: people, organisations, consent, suppressions. Same services as the UI."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from leadwerk.core.exceptions import ValidationFailed, api_field_names
from leadwerk.core.paging import keyset_paginate

from . import selectors, services
from .models import Channel, ConsentStatus, Organization, Person, Suppression
from .schemas import (
    ConsentIn,
    ConsentOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    PersonFields,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonSaved,
    SuppressionIn,
    SuppressionOut,
)

router = Router(tags=["marketing database"])
FIELD_NAMES = {"organization": "organization_id", "parent": "parent_id"}
PAGE_MAX = 200


def _people(request: HttpRequest):
    return Person.objects.visible_to(request.membership).select_related("organization")


def _organization(request: HttpRequest, organization_id: int | None, field: str) -> Organization | None:
    if organization_id is None:
        return None
    org = Organization.objects.visible_to(request.membership).filter(pk=organization_id).first()
    if org is None:
        raise ValidationFailed(_("No such organisation."), field=field)
    return org


def _blank(key: str, value):
    """JSON null means "empty": "" for text, False for yes/no, None for numbers."""
    if value is not None:
        return value
    return {"birth_year": None, "use_organization_address": False}.get(key, "")


def _person_data(request: HttpRequest, payload: PersonFields) -> dict:
    data = payload.model_dump(exclude_unset=True, exclude={"attributes", "tags", "organization_id"})
    data = {key: _blank(key, value) for key, value in data.items()}
    if "organization_id" in payload.model_fields_set:
        data["organization"] = _organization(request, payload.organization_id, "organization_id")
    return data


def _saved(result) -> dict:
    return {
        "person": result.person,
        "created": result.created,
        "match_kind": result.match.kind if result.match else None,
        "match_reason": result.match.reason if result.match else None,
    }


class PersonFilter(Schema):
    q: str | None = None
    consent: Channel | None = None
    consent_status: ConsentStatus | None = None
    tag: str | None = None
    flags: str | None = None
    cursor: str | None = None
    limit: int = 50


@router.get("/people", response=PersonPage, summary="People, searched and filtered, by name (cursor pagination)")
def person_list(request: HttpRequest, filters: Query[PersonFilter]):
    people = selectors.person_filter(membership=request.membership, filters=filters.model_dump()).select_related(
        "organization"
    )
    page = keyset_paginate(
        people, key="last_name_key", cursor=filters.cursor, size=max(1, min(filters.limit, PAGE_MAX))
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/people", response={201: PersonSaved, 200: PersonSaved}, summary="Create a person (a sure match updates instead)"
)
def person_create(request: HttpRequest, payload: PersonIn):
    with api_field_names(FIELD_NAMES):
        result = _person_create(request, payload)
    return Status(201 if result.created else 200, _saved(result))


def _person_create(request: HttpRequest, payload: PersonIn):
    return services.person_create(
        by=request.membership,
        data=_person_data(request, payload),
        attributes=payload.attributes or {},
        tags=payload.tags or [],
    )


@router.post(
    "/people/upsert",
    response={201: PersonSaved, 200: PersonSaved},
    summary="Update by e-mail or external id, else create",
)
def person_upsert(request: HttpRequest, payload: PersonIn, key: str = "email"):
    if key not in ("email", "external_id"):
        raise ValidationFailed(_("Use key=email or key=external_id."), field="key")
    data = _person_data(request, payload)
    if not data.get(key):
        raise ValidationFailed(_("The key field is empty."), field=key)
    lookup = services.normalize_person_data(request.membership.tenant, data)[0][key]
    existing = _people(request).filter(**{key: lookup}).order_by("pk").first()
    if existing is not None:
        services.person_update(
            person=existing, by=request.membership, data=data, attributes=payload.attributes, tags=payload.tags
        )
        existing.refresh_from_db()
        return Status(200, {"person": existing, "created": False, "match_kind": "sure", "match_reason": key})
    result = services.person_create(
        by=request.membership, data=data, attributes=payload.attributes or {}, tags=payload.tags or [], merge=False
    )
    return Status(201, _saved(result))


@router.get("/people/{person_id}", response=PersonOut)
def person_detail(request: HttpRequest, person_id: int):
    return get_object_or_404(_people(request), pk=person_id)


@router.patch("/people/{person_id}", response=PersonOut, summary="Change some fields of a person")
def person_update(request: HttpRequest, person_id: int, payload: PersonFields):
    person = get_object_or_404(_people(request), pk=person_id)
    data = _person_data(request, payload)
    if "last_name" in data and not data["last_name"]:
        raise ValidationFailed(_("Enter the last name."), field="last_name")
    with api_field_names(FIELD_NAMES):
        services.person_update(person=person, by=request.membership, data=data, attributes=payload.attributes)
    if payload.tags is not None:
        services.person_tags_set(person=person, by=request.membership, names=payload.tags)
    person.refresh_from_db()
    return person


@router.delete("/people/{person_id}", response={204: None})
def person_delete(request: HttpRequest, person_id: int):
    services.person_delete(person=get_object_or_404(_people(request), pk=person_id), by=request.membership)
    return Status(204, None)


@router.get("/people/{person_id}/consents", response=list[ConsentOut], summary="Consent history, newest first")
def consent_list(request: HttpRequest, person_id: int):
    return get_object_or_404(_people(request), pk=person_id).consents.all()


@router.post("/people/{person_id}/consents", response={201: ConsentOut}, summary="Record a consent event")
def consent_create(request: HttpRequest, person_id: int, payload: ConsentIn):
    person = get_object_or_404(_people(request), pk=person_id)
    consent = services.consent_record(person=person, by=request.membership, **payload.model_dump())
    return Status(201, consent)


class OrganizationFilter(Schema):
    q: str | None = None
    industry: str | None = Field(None, pattern=r"^[A-Ua-u0-9.]{1,8}$", description="WZ 2008 code or prefix")
    employees: Organization.Employees | None = None
    revenue: Organization.Revenue | None = None
    legal_form: Organization.LegalForm | None = None
    tag: str | None = None


@router.get(
    "/organizations",
    response=OrganizationPage,
    summary="Organisations, searched and filtered, by name (cursor pagination)",
)
def organization_list(
    request: HttpRequest, filters: Query[OrganizationFilter], cursor: str | None = None, limit: int = 50
):
    orgs = selectors.organization_filter(membership=request.membership, filters=filters.model_dump())
    page = keyset_paginate(orgs, key="name_key", cursor=cursor, size=max(1, min(limit, PAGE_MAX)))
    return {"items": page.items, "next_cursor": page.next_cursor}


def _org_data(request: HttpRequest, payload: OrganizationIn) -> dict:
    data = payload.model_dump(exclude_unset=True, exclude={"attributes", "parent_id"})
    data = {key: "" if value is None else value for key, value in data.items()}
    if "parent_id" in payload.model_fields_set:
        data["parent"] = _organization(request, payload.parent_id, "parent_id")
    return data


@router.post("/organizations", response={201: OrganizationOut})
def organization_create(request: HttpRequest, payload: OrganizationIn):
    with api_field_names(FIELD_NAMES):
        org = services.organization_create(
            by=request.membership, data=_org_data(request, payload), attributes=payload.attributes or {}
        )
    return Status(201, org)


@router.get("/organizations/{organization_id}", response=OrganizationOut)
def organization_detail(request: HttpRequest, organization_id: int):
    return get_object_or_404(Organization.objects.visible_to(request.membership), pk=organization_id)


@router.patch("/organizations/{organization_id}", response=OrganizationOut)
def organization_update(request: HttpRequest, organization_id: int, payload: OrganizationPatch):
    org = get_object_or_404(Organization.objects.visible_to(request.membership), pk=organization_id)
    with api_field_names(FIELD_NAMES):
        return services.organization_update(
            organization=org, by=request.membership, data=_org_data(request, payload), attributes=payload.attributes
        )


@router.delete("/organizations/{organization_id}", response={204: None})
def organization_delete(request: HttpRequest, organization_id: int):
    org = get_object_or_404(Organization.objects.visible_to(request.membership), pk=organization_id)
    services.organization_delete(organization=org, by=request.membership)
    return Status(204, None)


class PersonSuppressIn(Schema):
    reason: Suppression.Reason
    note: str = Field("", max_length=300)


class PersonSuppressOut(Schema):
    suppressed_reason: str
    entries: list[SuppressionOut]


@router.post(
    "/people/{person_id}/suppress",
    response=PersonSuppressOut,
    summary="Block a person for marketing: their e-mail address and phone numbers go on the suppression list",
)
def person_suppress(request: HttpRequest, person_id: int, payload: PersonSuppressIn):
    person = get_object_or_404(_people(request), pk=person_id)
    entries = services.person_suppress(by=request.membership, person=person, **payload.model_dump())
    return {"suppressed_reason": person.suppressed_reason, "entries": entries}


@router.post("/suppressions", response={201: SuppressionOut}, summary="Block an e-mail address or phone number")
def suppression_create(request: HttpRequest, payload: SuppressionIn):
    return Status(201, services.suppression_add(by=request.membership, **payload.model_dump()))
