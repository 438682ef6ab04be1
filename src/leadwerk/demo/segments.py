"""Three saved segments per demo tenant, made with the real services (so counts and snapshot are real)."""

from __future__ import annotations

from leadwerk.accounts.models import Membership, Tenant
from leadwerk.accounts.roles import Role
from leadwerk.contacts import segment_services
from leadwerk.contacts.models import Segment

__all__ = ["segments_load"]

# (name, channel, definition, frozen) per tenant language; tag names are those of demo/contacts.py's profiles.
_BAVARIA = {
    "op": "and",
    "children": [
        {"field": "has_email", "operator": "is", "value": True},
        {
            "op": "or",
            "children": [
                {"field": "state", "operator": "eq", "value": "Bayern"},
                {"field": "postcode", "operator": "between", "value": ["80000", "87999"]},
            ],
        },
    ],
}
_LARGE = {
    "op": "or",
    "children": [
        {"field": "org.employees", "operator": "at_least", "value": "250-999"},
        {"field": "org.revenue", "operator": "at_least", "value": "50-250m"},
    ],
}


def _fair(tag: str) -> dict:
    return {
        "op": "and",
        "children": [
            {"field": "tags", "operator": "has_any", "value": [tag]},
            {"field": "created_at", "operator": "in_last_days", "value": 3650},
        ],
    }


SEGMENTS = {
    "de": (
        ("E-Mail-Newsletter: Bayern", "email", _BAVARIA, False),
        ("Post-Mailing: große Unternehmen", "post", _LARGE, False),
        ("Messe 2026: Nachfassen (Stand zum Export)", "phone", _fair("Messe 2026"), True),
    ),
    "en": (
        ("E-mail newsletter: Bavaria", "email", _BAVARIA, False),
        ("Post mailing: large companies", "post", _LARGE, False),
        ("it-sa 2026 follow-up (snapshot)", "phone", _fair("it-sa 2026"), True),
    ),
}


def segments_load(tenant: Tenant) -> int:
    """Create the demo segments unless the tenant has segments already. Returns how many exist."""
    existing = Segment.objects.filter(tenant=tenant)
    if existing.exists():
        return existing.count()
    by = Membership.objects.filter(tenant=tenant, role=Role.MARKETING, is_active=True).order_by("pk").first()
    if by is None:
        return 0
    for name, channel, definition, frozen in SEGMENTS.get(tenant.locale, SEGMENTS["en"]):
        segment = segment_services.segment_create(by=by, name=name, channel=channel, definition=definition)
        if frozen:
            segment_services.segment_freeze(segment=segment, by=by)
    return existing.count()
