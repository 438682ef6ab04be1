from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadwerk.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models, signals  # noqa: F401  (signals: audit and session housekeeping only)

        auditlog.register(models.Tenant)
        auditlog.register(models.Team)
        auditlog.register(models.Membership)
        auditlog.register(models.Invitation, exclude_fields=["token_hash"])
        auditlog.register(models.ApiToken, exclude_fields=["key_hash", "last_used_at"])
