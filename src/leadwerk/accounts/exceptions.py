from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leadwerk.core.exceptions import Conflict, PermissionDenied, ValidationFailed


class NotAllowed(PermissionDenied):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(str(message or _("Your role does not allow this.")))


class LastAdmin(Conflict):
    def __init__(self) -> None:
        super().__init__(str(_("A tenant needs at least one active admin.")), field="role")


class AlreadyMember(Conflict):
    def __init__(self, field: str = "email") -> None:
        super().__init__(str(_("This person is already a member of the tenant.")), field=field)


class InvitationInvalid(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(str(_("This invitation link is invalid, already used, revoked or expired.")), field="token")


class WrongTeam(ValidationFailed):
    def __init__(self) -> None:
        super().__init__(str(_("Choose a team of this tenant.")), field="team")
