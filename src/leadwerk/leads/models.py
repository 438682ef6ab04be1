"""The lead database: every prospect, classified, with the complete history of its handling."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadwerk.core.models import TenantModel

from .querysets import ConfigQuerySet, LeadQuerySet, LeadRowQuerySet
from .states import Status


class InterestCategory(TenantModel):
    """A product or interest a lead can be about, defined by the tenant."""

    name = models.CharField(_("name"), max_length=120)
    key = models.SlugField(_("key"), max_length=40, help_text=_("Used in imports and the API."))
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("interest")
        verbose_name_plural = _("interests")
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="interest_unique_key_per_tenant")]

    def __str__(self) -> str:
        return self.name


class LeadReason(TenantModel):
    """An entry of the tenant's reason lists for lost and disqualified leads."""

    class Kind(models.TextChoices):
        LOST = "lost", _("Lost")
        DISQUALIFIED = "disqualified", _("Disqualified")

    kind = models.CharField(_("list"), max_length=16, choices=Kind.choices)
    label = models.CharField(_("reason"), max_length=120)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("reason")
        verbose_name_plural = _("reasons")
        ordering = ["kind", "position", "label"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "label"], name="leadreason_unique_label_per_kind")
        ]

    def __str__(self) -> str:
        return self.label


class Channel(models.TextChoices):
    MANUAL = "manual", _("Manual entry")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    WEB_FORM = "web_form", _("Web form")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    EVENT = "event", _("Trade fair / event")
    CAMPAIGN = "campaign", _("Campaign response")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Rating(models.TextChoices):
    HOT = "hot", _("hot")
    WARM = "warm", _("warm")
    COLD = "cold", _("cold")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Timeline(models.TextChoices):
    NOW = "now", _("now")
    QUARTER = "quarter", _("within 3 months")
    YEAR = "year", _("within 12 months")
    LATER = "later", _("later or unknown")


class Lead(TenantModel):
    """One episode of interest of a person, from capture to won, lost or parked."""

    person = models.ForeignKey(
        "contacts.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="leads"
    )
    organization = models.ForeignKey(
        "contacts.Organization",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    interest = models.ForeignKey(
        InterestCategory, verbose_name=_("interest"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("subject"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.MANUAL)
    source = models.CharField(_("source"), max_length=120, blank=True, help_text=_("e.g. the form, fair or list"))
    source_details = models.JSONField(_("tracking data"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    stage_entered_at = models.JSONField(default=dict, blank=True, help_text="status → first time it was entered")
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)

    # Qualification: BANT plus the tenant's own questions (answers by question key).
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, null=True, blank=True)
    authority = models.BooleanField(_("decision maker reached"), null=True, blank=True)
    need = models.CharField(_("need"), max_length=300, blank=True)
    timeline = models.CharField(_("timeline"), max_length=10, choices=Timeline.choices, blank=True)
    qualification = models.JSONField(_("qualification answers"), default=dict, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    estimated_value = models.DecimalField(_("estimated value"), max_digits=12, decimal_places=2, null=True, blank=True)

    rating = models.CharField(_("rating"), max_length=4, choices=Rating.choices, blank=True)
    score = models.IntegerField(_("score"), default=0)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)

    owner = models.ForeignKey(
        "accounts.Membership",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)

    captured_at = models.DateTimeField(_("captured"))
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    sla_first_contact_due = models.DateTimeField(_("first contact due"), null=True, blank=True)
    sla_accept_due = models.DateTimeField(_("acceptance due"), null=True, blank=True)
    sla_outcome_due = models.DateTimeField(_("outcome due"), null=True, blank=True)

    lost_reason = models.ForeignKey(
        LeadReason, verbose_name=_("lost reason"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disqualified_reason = models.ForeignKey(
        LeadReason,
        verbose_name=_("disqualification reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason_note = models.CharField(_("reason note"), max_length=300, blank=True)
    recontact_on = models.DateField(_("re-contact on"), null=True, blank=True)
    won_value = models.DecimalField(_("won value"), max_digits=12, decimal_places=2, null=True, blank=True)
    won_at = models.DateTimeField(_("won on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Optimistic concurrency: every write bumps the version; a stale write is a conflict naming the last writer.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["tenant", "status", "id"], name="lead_status"),
            models.Index(fields=["tenant", "owner", "status"], name="lead_owner_status"),
            models.Index(fields=["tenant", "team", "status"], name="lead_team_status"),
            models.Index(fields=["tenant", "person", "status"], name="lead_person_status"),
            models.Index(fields=["tenant", "-score", "id"], name="lead_score"),
            models.Index(fields=["tenant", "captured_at"], name="lead_captured"),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"


class LeadEvent(TenantModel):
    """Every status change, assignment, score change, SLA event and response. Reports are computed from these."""

    class Kind(models.TextChoices):
        CREATED = "created", _("captured")
        RESPONSE = "response", _("new response")
        STATUS = "status", _("status changed")
        ASSIGNMENT = "assignment", _("assigned")
        SCORE = "score", _("score changed")
        SLA = "sla", _("SLA")
        UPDATE = "update", _("changed")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey("accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    objects = LeadRowQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "lead", "at"], name="leadevent_lead"),
            models.Index(fields=["tenant", "kind", "at"], name="leadevent_kind"),
        ]


class Activity(TenantModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")
        RESPONSE = "response", _("Response")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("reached")
        NOT_REACHED = "not_reached", _("not reached")
        CALLBACK = "callback", _("call back")
        INTERESTED = "interested", _("interested")
        NOT_INTERESTED = "not_interested", _("not interested")
        DONE = "done", _("done")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey("accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = LeadRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "lead", "at"], name="activity_lead")]


class FollowUp(TenantModel):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        TASK = "task", _("Task")
        RECONTACT = "recontact", _("Re-contact (nurture)")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        "accounts.Membership",
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LeadRowQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "assignee", "done_at", "due_at"], name="followup_assignee_due"),
            models.Index(fields=["tenant", "lead", "done_at"], name="followup_lead"),
        ]


class IdempotencyRecord(TenantModel):
    """An API capture's Idempotency-Key: the same key and body give the same answer; another body is a conflict."""

    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    lead = models.ForeignKey(Lead, null=True, on_delete=models.CASCADE, related_name="+")
    status_code = models.PositiveSmallIntegerField(default=201)
    response = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_unique_key_per_tenant")]
