"""What a lead capture reads before its write transaction (see ``leadwerk.core.memo``; bench/intake)."""

from __future__ import annotations


def capture_prefetch(tenant_id: int) -> None:
    """Read what every capture of this tenant needs into the open memo (call it before the transaction)."""
    from leadwerk.contacts.models import AttributeDefinition
    from leadwerk.contacts.services import attribute_definitions

    from . import predictive, routing, scoring, sla

    model = predictive.active_model(tenant_id)
    scoring.engine_build(tenant_id, model_id=model.pk if model else None)
    sla.calendar_get(tenant_id)
    sla.active_policies(tenant_id)
    sla.tenant_timezone(tenant_id)
    routing.compiled_ruleset(tenant_id)
    attribute_definitions(tenant_id, AttributeDefinition.RecordType.PERSON)
