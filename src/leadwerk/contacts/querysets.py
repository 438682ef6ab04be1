from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat

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
    # A search remembers its branches (see ``search``) until another filter changes the rows.
    _search_plan: tuple[QuerySet, list[tuple[Q, bool]]] | None = None

    def _clone(self) -> Self:
        clone = super()._clone()
        clone._search_plan = self._search_plan
        return clone

    def _filter_or_exclude(self, negate, args, kwargs) -> Self:
        clone = super()._filter_or_exclude(negate, args, kwargs)
        clone._search_plan = None
        return clone

    def marketable(self, channel: str) -> Self:
        """Not suppressed and with granted consent for the channel (marketing purpose)."""
        return self.filter(suppressed_reason="", **{f"consent_{channel}": "granted"})

    def search(self, text: str, *, tenant_id: int | None = None, region: str = "DE") -> Self:
        """Prefix search over the indexed keys: e-mail, phone, postcode, last name, organisation, city.

        Every branch is an index range or equality (no LIKE, no join), so a search costs the same at a
        million people as at a thousand; see bench/lists. ``tenant_id`` lets the organisation lookup
        use its index; ``region`` reads phone numbers typed without a country code.

        The result also remembers its branches, so ``keyset_branches`` can page a search as separate
        walks in name order instead of collecting every match of an OR ("Berlin": 100,000 people) and
        sorting them. Apply the other filters first: a filter after ``search`` drops the plan.
        """
        from .normalize import clean_text

        text = clean_text(text)
        if not text:
            return self
        if "@" in text:
            low = text.lower()
            return self._planned([Q(email__gte=low, email__lt=low + "\uffff")], ordered=0)
        digits = "".join(ch for ch in text if ch.isdigit())
        # Digits with phone punctuation ("+49 (0)89 123 45-67", "089/1234567") count as a number too.
        numeric = digits and (len(digits) >= max(3, len(text.replace(" ", "")) - 2) or not text.strip(_PHONE_CHARS))
        if numeric:
            if len(digits) == 5:
                # A whole postcode: equality walks the (postcode, name) index in list order.
                return self.filter(postcode=digits)
            if len(digits) < 5:
                return self._planned([Q(postcode__gte=digits, postcode__lt=digits + "\uffff")], ordered=0)
            number = _phone_number(text, region)
            if number:
                # Each column by its own index: with rough statistics the planner would rather walk the names.
                return self._planned([Q(phone=number), Q(mobile=number)], ordered=0)
            return self.filter(_phone_fragment(digits))
        from .keys import name_key

        words = text.split()
        key = name_key(words[-1] if len(words) > 1 else text)
        name = Q(last_name_key__gte=key, last_name_key__lt=key + "\uffff")
        names = [name]
        if len(words) > 1:
            names[0] &= Q(first_name__istartswith=words[0])
            if len(words) == 2:  # "Ackermann Stella", as lists and address books write names: last name first
                first = name_key(words[0])
                names.append(
                    Q(last_name_key__gte=first, last_name_key__lt=first + "\uffff", first_name__istartswith=words[1])
                )
        # Organisation and city match the whole text ("Autohaus Nord", "Frankfurt am Main"). The
        # organisation is looked up first by its own index, so no join is needed.
        org_key = name_key(text)
        from .models import Organization

        orgs = Organization.objects.filter(name_key__gte=org_key, name_key__lt=org_key + "\uffff")
        if tenant_id is not None:
            orgs = orgs.filter(tenant_id=tenant_id)
        branches = list(names)
        # The organisations' ids as values, so the database looks their people up by the organisation
        # index (with a subquery it cannot tell how many there are and walks the name index instead).
        org_ids = list(orgs.order_by().values_list("pk", flat=True)[: MANY_ORGANIZATIONS + 1])
        if len(org_ids) > MANY_ORGANIZATIONS:
            branches.append(Q(organization_id__in=orgs.values("pk")))
        elif org_ids:
            branches.append(Q(organization_id__in=org_ids))
        for city in dict.fromkeys((text, text[:1].upper() + text[1:])):
            branches.append(Q(city__gte=city, city__lt=city + "\uffff"))
        return self._planned(branches, ordered=len(names))

    def _planned(self, branches: list[Q], *, ordered: int) -> Self:
        """Filter by the OR of ``branches``; the first ``ordered`` of them already come in name order."""
        condition = branches[0]
        for branch in branches[1:]:
            condition |= branch
        result = self.filter(condition)
        result._search_plan = (self, [(b, i < ordered) for i, b in enumerate(branches)])
        return result

    def keyset_branches(self, field: str) -> list[tuple[QuerySet, str]] | None:
        """The search as separate querysets whose union is this one, each with the key to walk it by.

        A branch with many matches (a big city, a short postcode prefix) is walked along the name
        index with its condition hidden from the planner, so the walk stops after a page; a branch
        with few matches is collected by its own index and sorted by a copy of the key the planner
        cannot serve from the name index. A capped count tells which.
        """
        if self._search_plan is None or field != "last_name_key":
            return None
        base, branches = self._search_plan
        walks = []
        for condition, ordered in branches:
            rows = base.filter(condition)
            if ordered:
                walks.append((rows, field))
            elif rows.values("pk")[:DENSE_ROWS].count() >= DENSE_ROWS:
                walks.append((_hidden(base, condition), field))
            else:
                walks.append((rows.alias(_sort_key=Concat(F(field), Value(""))), "_sort_key"))
        return walks


# Above this many matches a search branch is walked in name order rather than collected and sorted.
DENSE_ROWS = 3000
# A company prefix matching more organisations than this is searched through a subquery.
MANY_ORGANIZATIONS = 200


def _hidden(base: QuerySet, condition: Q) -> QuerySet:
    """``base`` filtered by ``condition`` on copies of its columns, which no index can serve."""
    aliases, renamed = {}, Q()
    renamed.connector, renamed.negated = condition.connector, condition.negated
    for lookup, value in condition.children:
        column, _, operator = lookup.partition("__")
        alias = f"_plain_{column}"
        if column == "organization_id":
            aliases[alias] = F(column) + 0
        else:
            aliases[alias] = Concat(F(column), Value(""))
        renamed.children.append((f"{alias}__{operator}" if operator else alias, value))
    return base.alias(**aliases).filter(renamed)


_PHONE_CHARS = "0123456789 +()/-."


def _phone_number(text: str, region: str) -> str | None:
    """A typed phone number as E.164 when it is a whole number."""
    from .normalize import normalize_phone

    number = normalize_phone(text, region=region)
    return number.value if number.ok else None


def _phone_fragment(digits: str) -> Q:
    """A fragment ("12345-67"): rare, and slow on big tables, as a suffix cannot use an index."""
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
