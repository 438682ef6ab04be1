from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadwerk.leads"
    label = "leads"
    verbose_name = "Lead database"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Leads carry their own complete history in LeadEvent; the audit log records the
        # tenant's configuration (reasons, interests) and deletions.
        auditlog.register(models.InterestCategory)
        auditlog.register(models.LeadReason)
