from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .models import Channel, Consent, ConsentStatus, Suppression


class OrganizationRef(Schema):
    id: int
    name: str


class PersonFields(Schema):
    salutation: str | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    department: str | None = None
    organization_id: int | None = None
    use_organization_address: bool | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, description="ISO code or name; the tenant's country when empty.")
    language: str | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    external_id: str | None = None
    attributes: dict[str, Any] | None = Field(default=None, description="Tenant-defined attributes by key.")
    tags: list[str] | None = None


class PersonIn(PersonFields):
    last_name: str = Field(min_length=1, max_length=80)


class PersonOut(Schema):
    id: int
    salutation: str
    title: str
    first_name: str
    last_name: str
    position: str
    department: str
    organization: OrganizationRef | None
    email: str
    phone: str
    mobile: str
    street: str
    postcode: str
    city: str
    country: str
    language: str
    birth_year: int | None
    external_id: str
    attributes: dict[str, Any]
    quality_flags: list[str]
    consent_email: ConsentStatus
    consent_phone: ConsentStatus
    consent_post: ConsentStatus
    consent_sms: ConsentStatus
    suppressed: bool = Field(description="Blocked for marketing by the suppression list.")
    duplicate_of_id: int | None = Field(description="A probable duplicate waiting for review.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_suppressed(obj) -> bool:
        return bool(obj.suppressed_reason)


class PersonSaved(Schema):
    person: PersonOut
    created: bool = Field(description="False when a sure match updated an existing person.")
    match_kind: str | None = Field(description="'sure', 'probable' or null.")
    match_reason: str | None = None


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page; null on the last page.")


class OrganizationIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    legal_form: str | None = None
    industry_code: str | None = None
    employees: str | None = None
    revenue: str | None = None
    website: str | None = None
    vat_id: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    parent_id: int | None = None
    external_id: str | None = None
    attributes: dict[str, Any] | None = None


class OrganizationPatch(OrganizationIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class OrganizationOut(Schema):
    id: int
    name: str
    legal_form: str
    industry_code: str
    employees: str
    revenue: str
    website: str
    vat_id: str
    email: str
    phone: str
    street: str
    postcode: str
    city: str
    country: str
    parent_id: int | None
    external_id: str
    attributes: dict[str, Any]
    quality_flags: list[str]


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class ConsentIn(Schema):
    channel: Channel
    status: ConsentStatus
    source: Consent.Source = Consent.Source.API
    purpose: str = "marketing"
    recorded_at: datetime | None = None
    proof_form: str = ""
    proof_ip: str | None = None
    proof_user_agent: str = ""
    wording_version: str = ""
    doi_confirmed_at: datetime | None = None
    note: str = ""


class ConsentOut(Schema):
    id: int
    channel: str
    purpose: str
    status: str
    source: str
    recorded_at: datetime
    proof_form: str
    wording_version: str
    doi_confirmed_at: datetime | None


class SuppressionIn(Schema):
    kind: Suppression.Kind
    value: str
    reason: Suppression.Reason
    note: str = ""


class SuppressionOut(Schema):
    id: int
    kind: str
    reason: str
    created_at: datetime
