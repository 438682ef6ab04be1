from datetime import datetime

from ninja import Field, Schema

from .roles import Role


class TenantOut(Schema):
    id: int
    name: str
    slug: str
    locale: str
    timezone: str
    country: str
    require_mfa: bool


class MembershipBrief(Schema):
    id: int
    tenant: TenantOut
    role: Role


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    language: str
    membership: MembershipBrief
    via_token: bool = Field(description="True when the request was authenticated by an API token.")


class TeamRef(Schema):
    id: int
    name: str


class MemberOut(Schema):
    id: int
    user_id: int
    email: str = Field(alias="user.email")
    full_name: str = Field(alias="user.full_name")
    role: Role
    team: TeamRef | None
    is_active: bool
    created_at: datetime


class MemberPatch(Schema):
    role: Role | None = None
    team_id: int | None = Field(default=None, description="Team id, or null for no team.")


class InvitationIn(Schema):
    email: str
    role: Role
    team_id: int | None = None


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    team_id: int | None
    expires_at: datetime


class TeamIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=255)
    lead_id: int | None = Field(default=None, description="Membership id of the team lead.")


class TeamOut(Schema):
    id: int
    name: str
    description: str
    lead_id: int | None


class TaskOut(Schema):
    id: str
    status: str
