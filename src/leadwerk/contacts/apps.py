from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "leadwerk.contacts"
    label = "contacts"
    verbose_name = "Marketing database"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Organization, exclude_fields=["name_key", "updated_at"])
        auditlog.register(models.Person, exclude_fields=["last_name_key", "updated_at"])
        auditlog.register(models.Consent)
        auditlog.register(models.Suppression)
        auditlog.register(models.Tag)
        auditlog.register(models.AttributeDefinition)
        auditlog.register(models.Segment, exclude_fields=["last_total", "last_eligible", "counted_at", "updated_at"])
