from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db.models import Q

from leadwerk.core.models import TenantQuerySet

from .roles import CONTACT_READERS

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership


class ContactQuerySet(TenantQuerySet):
    """People, organisations and everything hanging off them: readable by the contact roles only."""

    def visible_to(self, membership: Membership | None) -> Self:
        if membership is None or not membership.is_active or membership.role not in CONTACT_READERS:
            return self.none()
        return self.for_tenant(membership.tenant_id)


class PersonQuerySet(ContactQuerySet):
    def marketable(self, channel: str) -> Self:
        """Not suppressed and with granted consent for the channel (marketing purpose)."""
        return self.filter(suppressed_reason="", **{f"consent_{channel}": "granted"})

    def search(self, text: str, *, tenant_id: int | None = None, region: str = "DE") -> Self:
        """Prefix search over the indexed keys: e-mail, phone, postcode, last name, organisation, city.

        Every branch is an index range or equality (no LIKE, no join), so a search costs the same at a
        million people as at a thousand; see bench/lists. ``tenant_id`` lets the organisation lookup
        use its index; ``region`` reads phone numbers typed without a country code.
        """
        from .normalize import clean_text

        text = clean_text(text)
        if not text:
            return self
        if "@" in text:
            low = text.lower()
            return self.filter(email__gte=low, email__lt=low + "\uffff")
        digits = "".join(ch for ch in text if ch.isdigit())
        # Digits with phone punctuation ("+49 (0)89 123 45-67", "089/1234567") count as a number too.
        numeric = digits and (len(digits) >= max(3, len(text.replace(" ", "")) - 2) or not text.strip(_PHONE_CHARS))
        if numeric:
            if len(digits) <= 5:
                return self.filter(postcode__gte=digits, postcode__lt=digits + "\uffff")
            return self.filter(_phone_condition(text, digits, region))
        from .keys import name_key

        words = text.split()
        key = name_key(words[-1] if len(words) > 1 else text)
        condition = Q(last_name_key__gte=key, last_name_key__lt=key + "\uffff")
        if len(words) > 1:
            condition &= Q(first_name__istartswith=words[0])
        # Organisation and city match the whole text ("Autohaus Nord", "Frankfurt am Main"). The
        # organisation is looked up first by its own index, so no join is needed.
        org_key = name_key(text)
        from .models import Organization

        orgs = Organization.objects.filter(name_key__gte=org_key, name_key__lt=org_key + "\uffff")
        if tenant_id is not None:
            orgs = orgs.filter(tenant_id=tenant_id)
        condition |= Q(organization_id__in=orgs.values("pk"))
        for city in dict.fromkeys((text, text[:1].upper() + text[1:])):
            condition |= Q(city__gte=city, city__lt=city + "\uffff")
        return self.filter(condition)


_PHONE_CHARS = "0123456789 +()/-."


def _phone_condition(text: str, digits: str, region: str) -> Q:
    """A typed phone number: the exact E.164 value when it is a whole number, else the old suffix match."""
    from .normalize import normalize_phone

    number = normalize_phone(text, region=region)
    if number.ok:
        return Q(phone=number.value) | Q(mobile=number.value)
    # A fragment ("12345-67"): rare, and slow on big tables, as a suffix cannot use an index.
    tail = digits.lstrip("0")
    return Q(phone__endswith=tail) | Q(mobile__endswith=tail)


class OrganizationQuerySet(ContactQuerySet):
    def search(self, text: str) -> Self:
        from .keys import name_key
        from .normalize import clean_text

        text = clean_text(text)
        if not text:
            return self
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) == len(text):
            return self.filter(postcode__startswith=digits)
        key = name_key(text)
        return self.filter(Q(name_key__gte=key, name_key__lt=key + "\uffff") | Q(city__istartswith=text))
