"""Every change to the marketing database: normalise, match, validate, write, audit.

Forms, the API and imports all call these, so a record is treated the same whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import AuditEntry, Membership, Tenant
from leadwerk.accounts.roles import MEMBER_ADMINS
from leadwerk.accounts.services import audit_note
from leadwerk.core.exceptions import ValidationFailed
from leadwerk.core.memo import memoized

from . import normalize as n
from .exceptions import NotAllowed
from .keys import name_key
from .matching import Match, person_match
from .models import (
    Affiliation,
    AttributeDefinition,
    Channel,
    Consent,
    ConsentStatus,
    Organization,
    Person,
    PersonTag,
    Suppression,
    Tag,
)
from .roles import CONTACT_ADMINS, CONTACT_WRITERS

PERSON_FIELDS = (
    "salutation", "title", "first_name", "last_name", "position", "department", "organization",
    "use_organization_address", "email", "phone", "mobile", "street", "postcode", "city", "state", "country",
    "language", "birth_year", "external_id",
)  # fmt: skip
ORGANIZATION_FIELDS = (
    "name", "legal_form", "industry_code", "employees", "revenue", "website", "vat_id", "email", "phone",
    "street", "postcode", "city", "state", "country", "parent", "external_id",
)  # fmt: skip


def _require(by: Membership, roles: frozenset, obj=None) -> None:
    """The acting membership needs one of the roles and, for an existing record, the record's tenant."""
    if not by.is_active or by.role not in roles or (obj is not None and obj.tenant_id != by.tenant_id):
        raise NotAllowed()


# --- normalisation ---------------------------------------------------------------------


def _normalize_common(tenant: Tenant, data: dict[str, Any], flags: set[str]) -> None:
    """Normalise the fields people and organisations share, in place; collect data-quality flags."""
    country = n.normalize_country(data.get("country"), default=tenant.country)
    data["country"] = country.value if country.ok else tenant.country
    if not country.ok:
        flags.add(country.flag)
    for field in ("email",):
        if field in data:
            result = n.normalize_email(data[field])
            data[field] = result.value
            if not result.ok:
                flags.add(result.flag)
    for field in ("phone", "mobile"):
        if field in data:
            result = n.normalize_phone(data[field], region=data["country"] or tenant.country)
            data[field] = result.value
            if not result.ok:
                flags.add(result.flag)
    if "postcode" in data:
        result = n.normalize_postcode(data["postcode"], country=data["country"])
        data["postcode"] = result.value
        if not result.ok:
            flags.add(result.flag)
    for field in ("street", "state", "title", "position", "department", "external_id", "industry_code"):
        if field in data:
            data[field] = n.clean_text(data[field])
    if "city" in data:
        data["city"] = n.normalize_name(data["city"])


def normalize_person_data(tenant: Tenant, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    clean = {key: data[key] for key in PERSON_FIELDS if key in data}
    flags: set[str] = set()
    for field in ("first_name", "last_name"):
        if field in clean:
            clean[field] = n.normalize_name(clean[field])
    _normalize_common(tenant, clean, flags)
    if not clean.get("last_name"):
        raise ValidationFailed(_("Enter the last name."), field="last_name")
    return clean, sorted(flags)


def normalize_organization_data(tenant: Tenant, data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    clean = {key: data[key] for key in ORGANIZATION_FIELDS if key in data}
    flags: set[str] = set()
    if "name" in clean:
        clean["name"] = n.clean_text(clean["name"])
    if not clean.get("name"):
        raise ValidationFailed(_("Enter the organisation's name."), field="name")
    _normalize_common(tenant, clean, flags)
    for field, func in (("website", n.normalize_website), ("vat_id", n.normalize_vat_id)):
        if field in clean:
            result = func(clean[field])
            clean[field] = result.value
            if not result.ok:
                flags.add(result.flag)
    return clean, sorted(flags)


# --- attributes and tags -------------------------------------------------------------------


@memoized
def attribute_definitions(tenant_id: int, record_type: str) -> dict[str, AttributeDefinition]:
    """The tenant's attribute definitions of one record type, by key."""
    return {d.key: d for d in AttributeDefinition.objects.filter(tenant_id=tenant_id, record_type=record_type)}


def attributes_clean(*, tenant_id: int, record_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate tenant-defined attribute values by their type; unknown keys are refused."""
    definitions = attribute_definitions(tenant_id, record_type)
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise ValidationFailed(_("Unknown attribute."), field=f"attributes.{key}")
        value = _attribute_value(definition, raw)
        if value not in (None, "", []):
            clean[key] = value
    for key, definition in definitions.items():
        if definition.required and key not in clean:
            raise ValidationFailed(_("This attribute is required."), field=f"attributes.{key}")
    return clean


def _attribute_value(definition: AttributeDefinition, raw: Any) -> Any:
    field = f"attributes.{definition.key}"
    if raw in (None, ""):
        return None
    T = AttributeDefinition.Type
    try:
        match definition.type:
            case T.TEXT:
                return n.clean_text(raw)[:500]
            case T.NUMBER:
                number = Decimal(str(raw).replace(",", ".")) if isinstance(raw, str) else Decimal(str(raw))
                if not number.is_finite():
                    raise InvalidOperation
                return float(number) if number % 1 else int(number)
            case T.DATE:
                return (raw if isinstance(raw, date) else date.fromisoformat(str(raw))).isoformat()
            case T.BOOLEAN:
                if isinstance(raw, bool):
                    return raw
                text = str(raw).strip().lower()
                if text in ("1", "true", "yes", "ja", "j", "x"):
                    return True
                if text in ("0", "false", "no", "nein", "n"):
                    return False
                raise ValueError
            case T.CHOICE:
                value = n.clean_text(raw)
                if value not in definition.choices:
                    raise ValidationFailed(_("Choose one of the offered values."), field=field)
                return value
            case T.MULTICHOICE:
                items = raw if isinstance(raw, list | tuple) else [part for part in str(raw).split(";")]
                values = [n.clean_text(item) for item in items if n.clean_text(item)]
                if any(value not in definition.choices for value in values):
                    raise ValidationFailed(_("Choose only offered values."), field=field)
                return values
    except (ValueError, InvalidOperation, TypeError):
        raise ValidationFailed(_("This value does not fit the attribute's type."), field=field) from None
    return None


def _tags(tenant_id: int, names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in {n.clean_text(name) for name in names} - {""}:
        tag, _created = Tag.objects.get_or_create(tenant_id=tenant_id, name=name[:60])
        tags.append(tag)
    return tags


# --- suppression ----------------------------------------------------------------------


def _suppression_reason(tenant_id: int, *, email: str, phone: str, mobile: str) -> str:
    hashes = []
    if email:
        hashes.append(("email", n.contact_hash("email", email)))
    for number in (phone, mobile):
        if number:
            hashes.append(("phone", n.contact_hash("phone", number)))
    for kind, value_hash in hashes:
        reason = (
            Suppression.objects.filter(tenant_id=tenant_id, kind=kind, value_hash=value_hash)
            .values_list("reason", flat=True)
            .first()
        )
        if reason:
            return reason
    return ""


# --- people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonResult:
    person: Person
    created: bool
    match: Match | None
    # A sure match fills only what the record lacks: the given values that differ from what it has and so were
    # not taken over, field -> (kept value, given value).
    kept: dict[str, tuple[Any, Any]] = dataclass_field(default_factory=dict)


def _check_organization(tenant_id: int, organization: Organization | None) -> None:
    if organization is not None and organization.tenant_id != tenant_id:
        raise ValidationFailed(_("Choose an organisation of this tenant."), field="organization")


def _validate_fields(instance, exclude: list[str]) -> None:
    """Model-level checks (choices, lengths, IP format) as field errors instead of database errors."""
    from django.core.exceptions import ValidationError

    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(messages[0], field=field) from exc


def _apply_person(person: Person, clean: dict[str, Any], flags: list[str]) -> None:
    # Only a new or changed external id can clash. The check cannot use the partial unique index (SQLite does not
    # see that "external_id = ?" implies its "external_id <> ''"), so it scans the tenant's people: 350 ms at 1M
    # people on every update of a matched person, half of an API lead capture (bench/intake).
    external_id_changed = "external_id" in clean and clean["external_id"] != person.external_id
    for key, value in clean.items():
        setattr(person, key, value)
    _validate_fields(person, ["tenant", "organization", "duplicate_of", "last_name_key", "attributes", "quality_flags"])
    if person.external_id and (external_id_changed or person.pk is None):
        # The "not empty" term lets SQLite use the partial unique index (otherwise: the whole tenant).
        clash = Person.objects.filter(tenant_id=person.tenant_id, external_id=person.external_id).exclude(
            external_id=""
        )
        if clash.exclude(pk=person.pk).exists():
            raise ValidationFailed(_("Another person has this external id."), field="external_id")
    person.last_name_key = name_key(person.last_name)
    person.quality_flags = flags
    person.suppressed_reason = _suppression_reason(
        person.tenant_id, email=person.email, phone=person.phone, mobile=person.mobile
    )


def _track_affiliation(person: Person, previous_org_id: int | None) -> None:
    if person.organization_id == previous_org_id:
        return
    now = timezone.now()
    Affiliation.objects.filter(person=person, ended_at__isnull=True).update(ended_at=now)
    if person.organization_id:
        Affiliation.objects.create(
            tenant_id=person.tenant_id,
            person=person,
            organization_id=person.organization_id,
            position=person.position,
            department=person.department,
            started_at=now,
        )


@transaction.atomic
def person_create(
    *,
    by: Membership,
    data: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    merge: bool = True,
) -> PersonResult:
    """A new target person; a sure match updates the existing record instead, a probable one is flagged."""
    _require(by, CONTACT_WRITERS)
    return person_upsert(by=by, data=data, attributes=attributes, tags=tags, merge=merge)


def _identity_locks(tenant_id: int, clean: Mapping[str, Any], flags: list[str]) -> None:
    """On PostgreSQL, one writer at a time per e-mail address, phone number and external id (until commit).

    Otherwise two concurrent captures of the same new person both find no match and both create it. The
    locks are transaction-scoped advisory locks, taken in a fixed order; SQLite needs none (one writer).
    """
    from django.db import connection

    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    identities = set()
    if clean.get("email") and "email_invalid" not in flags:
        identities.add(f"email:{clean['email']}")
    for field in ("phone", "mobile"):
        if str(clean.get(field) or "").startswith("+"):
            identities.add(f"phone:{clean[field]}")
    if clean.get("external_id"):
        identities.add(f"external:{clean['external_id']}")
    with connection.cursor() as cursor:
        for identity in sorted(identities):
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", [tenant_id, identity])


def person_upsert(
    *,
    by: Membership,
    data: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    merge: bool = True,
) -> PersonResult:
    """Find-or-create for other apps' write paths (lead capture, responses) whose caller checked its own role.

    Same normalisation, matching and flags as ``person_create``; no role check of the contact roles, since
    a sales user capturing a lead must be able to record the person it is about.
    """
    if not by.is_active:
        raise NotAllowed()
    tenant = by.tenant
    clean, flags = normalize_person_data(tenant, data)
    _check_organization(tenant.pk, clean.get("organization"))
    attrs = attributes_clean(tenant_id=tenant.pk, record_type="person", values=attributes or {})
    _identity_locks(tenant.pk, clean, flags)
    match = person_match(
        tenant_id=tenant.pk,
        email=clean.get("email", "") if "email_invalid" not in flags else "",
        phone=clean.get("phone", "") if clean.get("phone", "").startswith("+") else "",
        mobile=clean.get("mobile", "") if clean.get("mobile", "").startswith("+") else "",
        first_name=clean.get("first_name", ""),
        last_name=clean["last_name"],
        postcode=clean.get("postcode", ""),
        street=clean.get("street", ""),
        organization_id=clean["organization"].pk if clean.get("organization") else None,
        external_id=clean.get("external_id", ""),
    )
    if match is not None and match.is_sure and merge:
        person = Person.objects.select_for_update().get(pk=match.person_id)
        # Fill what the existing record lacks; never blank out what it has.
        fill = {key: value for key, value in clean.items() if value not in ("", None) and not getattr(person, key)}
        kept = {
            key: (getattr(person, key), value)
            for key, value in clean.items()
            # an unticked box (False) is no input that differs
            if key not in fill and value not in ("", None) and value is not False and getattr(person, key) != value
        }
        _person_change(person=person, by=by, data=fill, attributes={**person.attributes, **attrs}, tags=tags)
        return PersonResult(person=person, created=False, match=match, kept=kept)
    person = Person(tenant=tenant)
    _apply_person(person, clean, flags)
    person.attributes = attrs
    if match is not None:
        person.duplicate_of_id = match.person_id
    person.save()
    _track_affiliation(person, None)
    for tag in _tags(tenant.pk, tags):
        PersonTag.objects.get_or_create(tenant_id=tenant.pk, person=person, tag=tag)
    return PersonResult(person=person, created=True, match=match)


@transaction.atomic
def person_update(
    *,
    person: Person,
    by: Membership,
    data: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
) -> Person:
    """Change a person. Fields not given stay as they are."""
    _require(by, CONTACT_WRITERS, person)
    return _person_change(person=person, by=by, data=data, attributes=attributes, tags=tags)


def _person_change(
    *,
    person: Person,
    by: Membership,
    data: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
) -> Person:
    if person.tenant_id != by.tenant_id:
        raise NotAllowed()
    merged = {key: getattr(person, key) for key in PERSON_FIELDS} | dict(data)
    clean, flags = normalize_person_data(by.tenant, merged)
    _check_organization(person.tenant_id, clean.get("organization"))
    previous_org = person.organization_id
    _apply_person(person, clean, flags)
    if attributes is not None:
        person.attributes = attributes_clean(tenant_id=person.tenant_id, record_type="person", values=attributes)
    person.save()
    _track_affiliation(person, previous_org)
    if tags is not None:
        for tag in _tags(person.tenant_id, tags):
            PersonTag.objects.get_or_create(tenant_id=person.tenant_id, person=person, tag=tag)
    return person


@transaction.atomic
def person_delete(*, person: Person, by: Membership) -> None:
    _require(by, CONTACT_WRITERS, person)
    person.delete()


@transaction.atomic
def person_tags_set(*, person: Person, by: Membership, names: Iterable[str]) -> list[Tag]:
    """Replace the person's tags with exactly these."""
    _require(by, CONTACT_WRITERS, person)
    tags = _tags(person.tenant_id, names)
    PersonTag.objects.filter(person=person).exclude(tag__in=tags).delete()
    for tag in tags:
        PersonTag.objects.get_or_create(tenant_id=person.tenant_id, person=person, tag=tag)
    return tags


# --- organisations ----------------------------------------------------------------------------


def _apply_organization(org: Organization, clean: dict[str, Any], flags: list[str]) -> None:
    parent = clean.get("parent")
    if parent is not None and (parent.tenant_id != org.tenant_id or (org.pk and parent.pk == org.pk)):
        raise ValidationFailed(_("Choose another organisation of this tenant as parent."), field="parent")
    for key, value in clean.items():
        setattr(org, key, value)
    _validate_fields(org, ["tenant", "parent", "name_key", "attributes", "quality_flags"])
    ancestor, seen = parent, set()
    while ancestor is not None and org.pk:
        if ancestor.pk == org.pk or ancestor.pk in seen:
            raise ValidationFailed(_("An organisation cannot be its own parent, also not indirectly."), field="parent")
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    org.name_key = name_key(org.name)
    org.quality_flags = flags
    if org.external_id:
        clash = Organization.objects.filter(tenant_id=org.tenant_id, external_id=org.external_id).exclude(
            external_id=""
        )  # "not empty": SQLite then uses the partial unique index
        if clash.exclude(pk=org.pk).exists():
            raise ValidationFailed(_("Another organisation has this external id."), field="external_id")


@transaction.atomic
def organization_create(
    *, by: Membership, data: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> Organization:
    _require(by, CONTACT_WRITERS)
    clean, flags = normalize_organization_data(by.tenant, data)
    org = Organization(tenant=by.tenant)
    _apply_organization(org, clean, flags)
    org.attributes = attributes_clean(tenant_id=by.tenant_id, record_type="organization", values=attributes or {})
    org.save()
    return org


@transaction.atomic
def organization_update(
    *, organization: Organization, by: Membership, data: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> Organization:
    _require(by, CONTACT_WRITERS, organization)
    merged = {key: getattr(organization, key) for key in ORGANIZATION_FIELDS} | dict(data)
    clean, flags = normalize_organization_data(by.tenant, merged)
    _apply_organization(organization, clean, flags)
    if attributes is not None:
        organization.attributes = attributes_clean(
            tenant_id=organization.tenant_id, record_type="organization", values=attributes
        )
    organization.save()
    return organization


@transaction.atomic
def organization_delete(*, organization: Organization, by: Membership) -> None:
    """The people stay, without organisation."""
    _require(by, CONTACT_WRITERS, organization)
    organization.delete()


# --- consent and suppression -------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    person: Person,
    by: Membership | None,
    channel: str,
    status: str,
    source: str,
    purpose: str = "marketing",
    recorded_at=None,
    proof_form: str = "",
    proof_ip: str | None = None,
    proof_user_agent: str = "",
    wording_version: str = "",
    doi_confirmed_at=None,
    note: str = "",
) -> Consent:
    """Add a consent event; the history stays. The newest marketing consent per channel is mirrored on the person."""
    if by is not None:
        _require(by, CONTACT_WRITERS | CONTACT_ADMINS, person)
    if channel not in Channel.values:
        raise ValidationFailed(_("Choose a channel."), field="channel")
    if status not in ConsentStatus.values:
        raise ValidationFailed(_("Choose a status."), field="status")
    if source not in Consent.Source.values:
        raise ValidationFailed(_("Choose a source."), field="source")
    if status == ConsentStatus.GRANTED and source == Consent.Source.IMPORT and not (proof_form or doi_confirmed_at):
        # Imported without evidence: recorded, but not marketable.
        status = ConsentStatus.UNKNOWN
    if proof_ip:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_ipv46_address

        try:
            validate_ipv46_address(proof_ip)
        except ValidationError:
            raise ValidationFailed(_("Enter a valid IP address."), field="proof_ip") from None
    consent = Consent.objects.create(
        tenant_id=person.tenant_id,
        person=person,
        channel=channel,
        purpose=n.clean_text(purpose) or "marketing",
        status=status,
        source=source,
        recorded_at=recorded_at or timezone.now(),
        proof_form=n.clean_text(proof_form),
        proof_ip=proof_ip or None,
        proof_user_agent=n.clean_text(proof_user_agent)[:300],
        wording_version=n.clean_text(wording_version),
        doi_confirmed_at=doi_confirmed_at,
        recorded_by=by,
        note=n.clean_text(note),
    )
    if consent.purpose == "marketing":
        latest = (
            Consent.objects.filter(person=person, channel=channel, purpose="marketing")
            .order_by("-recorded_at", "-id")
            .values_list("status", flat=True)
            .first()
        )
        Person.objects.filter(pk=person.pk).update(**{f"consent_{channel}": latest}, updated_at=timezone.now())
        setattr(person, f"consent_{channel}", latest)
    return consent


@transaction.atomic
def suppression_add(*, by: Membership, kind: str, value: str, reason: str, note: str = "") -> Suppression:
    """Block an address or number for marketing; people with it are marked at once, and later imports stay blocked."""
    _require(by, CONTACT_ADMINS)
    if kind == Suppression.Kind.EMAIL:
        result = n.normalize_email(value)
    elif kind == Suppression.Kind.PHONE:
        result = n.normalize_phone(value, region=by.tenant.country)
    else:
        raise ValidationFailed(_("Choose e-mail or phone."), field="kind")
    if not result.ok or not result.value:
        raise ValidationFailed(_("Enter a valid e-mail address or phone number."), field="value")
    if reason not in Suppression.Reason.values:
        raise ValidationFailed(_("Choose a reason."), field="reason")
    suppression, _created = Suppression.objects.get_or_create(
        tenant_id=by.tenant_id,
        kind=kind,
        value_hash=n.contact_hash(kind, result.value),
        defaults={"reason": reason, "note": n.clean_text(note), "created_by": by},
    )
    people = Person.objects.filter(tenant_id=by.tenant_id, suppressed_reason="")
    if kind == Suppression.Kind.EMAIL:
        people = people.filter(email=result.value)
    else:
        from django.db.models import Q

        people = people.filter(Q(phone=result.value) | Q(mobile=result.value))
    for person in people:
        person.suppressed_reason = suppression.reason
        person.save(update_fields=["suppressed_reason", "updated_at"])
    return suppression


@transaction.atomic
def person_suppress(*, by: Membership, person: Person, reason: str, note: str = "") -> list[Suppression]:
    """Block this person for marketing: their e-mail address and phone numbers go on the suppression list (so a
    later import or form does not revive them), and the record is marked at once, also without contact data."""
    _require(by, CONTACT_ADMINS, person)
    if reason not in Suppression.Reason.values:
        raise ValidationFailed(_("Choose a reason."), field="reason")
    entries = []
    values = (
        [(Suppression.Kind.EMAIL, person.email)] if person.email and "email_invalid" not in person.quality_flags else []
    )
    values += [(Suppression.Kind.PHONE, number) for number in (person.phone, person.mobile) if number.startswith("+")]
    for kind, value in dict.fromkeys(values):
        entries.append(suppression_add(by=by, kind=kind, value=value, reason=reason, note=note))
    person.refresh_from_db(fields=["suppressed_reason"])
    if person.suppressed_reason != reason:
        person.suppressed_reason = reason
        person.save(update_fields=["suppressed_reason", "updated_at"])
    return entries


@transaction.atomic
def attribute_delete(*, definition: AttributeDefinition, by: Membership) -> None:
    """Remove the field; stored values stay in the records' JSON but are no longer shown or exported."""
    _require(by, MEMBER_ADMINS, definition)
    definition.delete()


@transaction.atomic
def attribute_define(
    *,
    by: Membership,
    record_type: str,
    key: str,
    label: str,
    type: str,
    choices: list[str] | None = None,
    required: bool = False,
) -> AttributeDefinition:
    _require(by, MEMBER_ADMINS)
    definition = AttributeDefinition(
        tenant_id=by.tenant_id,
        record_type=record_type,
        key=n.clean_text(key).lower(),
        label=n.clean_text(label),
        type=type,
        choices=[n.clean_text(c) for c in (choices or []) if n.clean_text(c)],
        required=required,
    )
    from django.core.exceptions import ValidationError

    taken = AttributeDefinition.objects.filter(tenant_id=by.tenant_id, record_type=record_type, key=definition.key)
    if taken.exists():
        message = _("An attribute with this key already exists for “%(type)s”.")
        raise ValidationFailed(message % {"type": definition.get_record_type_display()}, field="key")
    try:
        definition.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(messages[0], field=field if field != "__all__" else "key") from exc
    if type in ("choice", "multichoice") and not definition.choices:
        raise ValidationFailed(_("Give at least one choice."), field="choices")
    definition.save()
    return definition


# --- bulk actions ---------------------------------------------------------------------------------

# A bulk delete removes each record with its audit entry; beyond this many the import's undo or a
# privacy erasure job is the right tool, not a click in a list.
BULK_DELETE_LIMIT = 5_000
BULK_CHUNK = 2_000


def _bulk_ids(by: Membership, people) -> list[int]:
    """The ids of the given people (a queryset or ids) that lie in the acting member's tenant."""
    qs = Person.objects.filter(tenant_id=by.tenant_id)
    if isinstance(people, QuerySet):
        qs = qs.filter(pk__in=people.values("pk"))
    else:
        qs = qs.filter(pk__in=[int(pk) for pk in people])
    return list(qs.order_by("pk").values_list("pk", flat=True))


def _bulk_record(by: Membership, text: str, changes: dict) -> None:
    """One audit entry for a bulk change (the single rows are not logged one by one)."""
    audit_note(tenant_id=by.tenant_id, by=by, model=Person, text=text, action=AuditEntry.Action.UPDATE, changes=changes)


@transaction.atomic
def people_tag(*, by: Membership, people, tag_name: str, remove: bool = False) -> int:
    """Add (or remove) one tag on many people at once; returns how many people changed."""
    _require(by, CONTACT_WRITERS)
    name = n.clean_text(tag_name)[:60]
    if not name:
        raise ValidationFailed(_("Enter the tag to add or remove."), field="tag")
    ids = _bulk_ids(by, people)
    if remove:
        tag = Tag.objects.filter(tenant_id=by.tenant_id, name=name).first()
        if tag is None:
            return 0
        deleted, _detail = PersonTag.objects.filter(tenant_id=by.tenant_id, tag=tag, person_id__in=ids).delete()
        if deleted:
            _bulk_record(by, f"Tag {name} removed: {deleted}", {"tag": [name, None], "people": [deleted, None]})
        return deleted
    (tag,) = _tags(by.tenant_id, [name])
    have = set(PersonTag.objects.filter(tag=tag, person_id__in=ids).values_list("person_id", flat=True))
    new = [PersonTag(tenant_id=by.tenant_id, person_id=pk, tag=tag) for pk in ids if pk not in have]
    PersonTag.objects.bulk_create(new, batch_size=BULK_CHUNK, ignore_conflicts=True)
    if new:
        Person.objects.filter(pk__in=[row.person_id for row in new]).update(updated_at=timezone.now())
        _bulk_record(by, f"Tag {name} added: {len(new)}", {"tag": [None, name], "people": [None, len(new)]})
    return len(new)


@transaction.atomic
def people_delete(*, by: Membership, people) -> int:
    """Delete many people (each one audit-logged like a single delete); refuses more than BULK_DELETE_LIMIT."""
    _require(by, CONTACT_WRITERS)
    ids = _bulk_ids(by, people)
    if len(ids) > BULK_DELETE_LIMIT:
        raise ValidationFailed(
            _("At most %(limit)s people can be deleted at once; narrow the selection.") % {"limit": BULK_DELETE_LIMIT},
            field="ids",
        )
    for start in range(0, len(ids), BULK_CHUNK):
        for person in Person.objects.filter(pk__in=ids[start : start + BULK_CHUNK]):
            person.delete()
    return len(ids)


# --- exports --------------------------------------------------------------------------------------


def export_record(*, by: Membership, what: str, rows: int, file_format: str, filters: Mapping[str, Any]) -> None:
    """Every export is written to the audit log: who took how many records out, in which form, filtered how."""
    audit_note(
        tenant_id=by.tenant_id,
        by=by,
        model=Person,
        text=f"Export {what}: {rows} ({file_format})",
        action=AuditEntry.Action.ACCESS,
        changes={"export": [what, file_format], "rows": [None, rows]},
        extra={"filters": {k: str(v) for k, v in filters.items() if v}},
    )
