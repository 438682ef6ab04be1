"""What a lead capture reads before its write transaction (see ``leadwerk.core.memo``; bench/intake).

The answers are shared between captures of a tenant while ``capture_stamp`` is unchanged: one query instead
of one per configuration table. The stamp covers every table the shared functions read; a function added to
``SHARED`` must have its tables in ``STAMPED_TABLES``.
"""

from __future__ import annotations

from django.db import connection

from leadwerk.core.memo import config_share, updated_stamp_sql

# What each shared function reads (besides the other shared functions it calls):
#   predictive.active_model      leads_scoremodel
#   scoring.scoring_settings     leads_scoringsettings
#   scoring.engine_build         leads_scoringrule, and for its field catalogue leads_interestcategory,
#                                leads_qualificationquestion, contacts_attributedefinition
#   sla.calendar_get             leads_businesscalendar
#   sla.active_policies          leads_slapolicy
#   sla.tenant_timezone          accounts_tenant.timezone (part of the stamp itself)
#   routing.compiled_ruleset     leads_routingrule (its conditions are checked against the catalogue only)
#   contacts attribute_definitions   contacts_attributedefinition
SHARED = frozenset({
    "leadwerk.leads.predictive.active_model",
    "leadwerk.leads.scoring.scoring_settings",
    "leadwerk.leads.scoring.engine_build",
    "leadwerk.leads.sla.calendar_get",
    "leadwerk.leads.sla.active_policies",
    "leadwerk.leads.sla.tenant_timezone",
    "leadwerk.leads.routing.compiled_ruleset",
    "leadwerk.contacts.services.attribute_definitions",
})  # fmt: skip
STAMPED_TABLES = (
    "leads_scoremodel", "leads_scoringsettings", "leads_scoringrule", "leads_interestcategory",
    "leads_qualificationquestion", "contacts_attributedefinition", "leads_businesscalendar", "leads_slapolicy",
    "leads_routingrule",
)  # fmt: skip


def capture_stamp(tenant_id: int) -> tuple:
    """Changes with every save, insert or deletion of the tenant's capture configuration and with its time zone
    (one statement: a count and a sum of ``updated_at`` per table, see ``updated_stamp_sql``)."""
    parts = ", ".join(updated_stamp_sql(table, connection.vendor) for table in STAMPED_TABLES)
    # only fixed table names are interpolated
    sql = f"SELECT (SELECT timezone FROM accounts_tenant WHERE id = %s), {parts}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id] * (1 + 2 * len(STAMPED_TABLES)))
        return tuple(cursor.fetchone())


def capture_config_share(tenant_id: int) -> None:
    """Read the stamp and share the configuration answers under it (call it first in the open memo)."""
    config_share(tenant_id, capture_stamp(tenant_id), SHARED)


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
