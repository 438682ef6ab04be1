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

    def search(self, text: str) -> Self:
        """Prefix search over the indexed keys: e-mail, phone, postcode, last name, organisation."""
        from .normalize import clean_text

        text = clean_text(text)
        if not text:
            return self
        if "@" in text:
            low = text.lower()
            return self.filter(email__gte=low, email__lt=low + "\uffff")
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) >= max(3, len(text.replace(" ", "")) - 2):
            if len(digits) <= 5:
                return self.filter(postcode__startswith=digits)
            tail = digits.lstrip("0")
            return self.filter(Q(phone__endswith=tail) | Q(mobile__endswith=tail))
        from .keys import name_key

        words = text.split()
        key = name_key(words[-1] if len(words) > 1 else text)
        condition = Q(last_name_key__gte=key, last_name_key__lt=key + "\uffff")
        if len(words) > 1:
            condition &= Q(first_name__istartswith=words[0])
        else:
            org_key = name_key(text)
            condition |= Q(organization__name_key__gte=org_key, organization__name_key__lt=org_key + "\uffff")
            condition |= Q(city__istartswith=text)
        return self.filter(condition)


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
