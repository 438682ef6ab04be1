"""API for the current user, the tenant, its members, invitations and teams."""

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from leadwerk.core.exceptions import ValidationFailed
from leadwerk.core.exceptions import api_field_names as _api_field_names

from . import services
from .models import Invitation, Membership, Team
from .roles import MEMBER_ADMINS, Role
from .schemas import InvitationIn, InvitationOut, MemberOut, MemberPatch, MeOut, TeamIn, TeamOut, TenantOut

router = Router(tags=["accounts"])

# Services name model fields; the API's inputs carry ids.
API_FIELD_NAMES = {"lead": "lead_id", "team": "team_id"}


def api_field_names():
    return _api_field_names(API_FIELD_NAMES)


def _admin_scope(qs, request: HttpRequest):
    """Admin-only objects: anyone else gets 404, as if they did not exist."""
    if request.membership.role not in MEMBER_ADMINS:
        return qs.none()
    return qs


def _team_or_none(request: HttpRequest, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.for_tenant(request.membership.tenant_id).filter(pk=team_id).first()
    if team is None:
        raise ValidationFailed(_("No such team in this tenant."), field="team_id")
    return team


@router.get("/me", response=MeOut, summary="The caller: user, membership and tenant")
def me(request: HttpRequest):
    m = request.membership
    return {
        "id": m.user.pk,
        "email": m.user.email,
        "full_name": m.user.full_name,
        "language": m.user.language,
        "membership": {"id": m.pk, "tenant": m.tenant, "role": m.role},
        "via_token": getattr(request, "api_token", None) is not None,
    }


@router.get("/tenant", response=TenantOut, summary="The tenant the caller acts in")
def tenant(request: HttpRequest):
    return request.membership.tenant


class MemberFilter(Schema):
    q: str | None = None
    role: Role | None = None
    is_active: bool | None = None


@router.get("/members", response=list[MemberOut], summary="Members visible to the caller")
@paginate(LimitOffsetPagination)
def member_list(request: HttpRequest, filters: Query[MemberFilter]):
    qs = Membership.objects.visible_to(request.membership).select_related("user", "team").order_by("pk")
    if filters.q:
        qs = qs.filter(Q(user__email__icontains=filters.q) | Q(user__full_name__icontains=filters.q))
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs


@router.get("/members/{member_id}", response=MemberOut)
def member_detail(request: HttpRequest, member_id: int):
    return get_object_or_404(
        Membership.objects.visible_to(request.membership).select_related("user", "team"), pk=member_id
    )


@router.patch("/members/{member_id}", response=MemberOut, summary="Change role and/or team (admins)")
def member_update(request: HttpRequest, member_id: int, payload: MemberPatch):
    qs = _admin_scope(Membership.objects.visible_to(request.membership), request)
    member = get_object_or_404(qs.select_related("user", "team"), pk=member_id)
    fields = payload.model_dump(exclude_unset=True)
    role = fields.get("role", member.role)
    team = _team_or_none(request, fields["team_id"]) if "team_id" in fields else member.team
    with api_field_names():
        return services.membership_update(membership=member, by=request.membership, role=role, team=team)


@router.post("/members/{member_id}/deactivate", response=MemberOut, summary="End a member's access (admins)")
def member_deactivate(request: HttpRequest, member_id: int):
    qs = _admin_scope(Membership.objects.visible_to(request.membership), request)
    member = get_object_or_404(qs, pk=member_id)
    return services.membership_deactivate(membership=member, by=request.membership)


@router.post("/members/{member_id}/reactivate", response=MemberOut, summary="Restore a member's access (admins)")
def member_reactivate(request: HttpRequest, member_id: int):
    qs = _admin_scope(Membership.objects.visible_to(request.membership), request)
    member = get_object_or_404(qs, pk=member_id)
    return services.membership_reactivate(membership=member, by=request.membership)


@router.get("/invitations", response=list[InvitationOut], summary="Pending invitations (admins)")
@paginate(LimitOffsetPagination)
def invitation_list(request: HttpRequest):
    return _admin_scope(Invitation.objects.visible_to(request.membership).pending(), request)


@router.post("/invitations", response={201: InvitationOut}, summary="Invite a person by e-mail (admins)")
def invitation_create(request: HttpRequest, payload: InvitationIn):
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(payload.email)
    except ValidationError as exc:
        raise ValidationFailed(str(exc.messages[0]), field="email") from exc
    team = _team_or_none(request, payload.team_id)
    with api_field_names():
        invitation, _raw = services.member_invite(
            by=request.membership, email=payload.email, role=payload.role, team=team
        )
    return Status(201, invitation)


@router.delete("/invitations/{invitation_id}", response={204: None}, summary="Revoke an invitation (admins)")
def invitation_revoke(request: HttpRequest, invitation_id: int):
    qs = _admin_scope(Invitation.objects.visible_to(request.membership), request)
    services.invitation_revoke(invitation=get_object_or_404(qs, pk=invitation_id), by=request.membership)
    return Status(204, None)


@router.get("/teams", response=list[TeamOut])
@paginate(LimitOffsetPagination)
def team_list(request: HttpRequest):
    return Team.objects.visible_to(request.membership).order_by("name")


@router.get("/teams/{team_id}", response=TeamOut)
def team_detail(request: HttpRequest, team_id: int):
    return get_object_or_404(Team.objects.visible_to(request.membership), pk=team_id)


def _lead(request: HttpRequest, lead_id: int | None) -> Membership | None:
    if lead_id is None:
        return None
    lead = Membership.objects.for_tenant(request.membership.tenant_id).filter(pk=lead_id).first()
    if lead is None:
        raise ValidationFailed(_("No such member in this tenant."), field="lead_id")
    return lead


@router.post("/teams", response={201: TeamOut}, summary="Create a team (admins)")
def team_create(request: HttpRequest, payload: TeamIn):
    with api_field_names():
        team = services.team_create(
            by=request.membership,
            name=payload.name,
            description=payload.description,
            lead=_lead(request, payload.lead_id),
        )
    return Status(201, team)


@router.put("/teams/{team_id}", response=TeamOut, summary="Replace a team's name, description and lead (admins)")
def team_update(request: HttpRequest, team_id: int, payload: TeamIn):
    team = get_object_or_404(_admin_scope(Team.objects.visible_to(request.membership), request), pk=team_id)
    with api_field_names():
        return services.team_update(
            team=team,
            by=request.membership,
            name=payload.name,
            description=payload.description,
            lead=_lead(request, payload.lead_id),
        )


@router.delete("/teams/{team_id}", response={204: None}, summary="Delete a team; members stay (admins)")
def team_delete(request: HttpRequest, team_id: int):
    team = get_object_or_404(_admin_scope(Team.objects.visible_to(request.membership), request), pk=team_id)
    services.team_delete(team=team, by=request.membership)
    return Status(204, None)
