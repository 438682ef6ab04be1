"""The lead database: every prospect, classified, with the complete history of its handling."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadwerk.core.models import TenantModel

from .querysets import ConfigQuerySet, LeadQuerySet, LeadRowQuerySet, NotificationQuerySet
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

    # Classification: the rule points behind ``score`` and the active model's conversion probability.
    score_points = models.JSONField(default=list, blank=True, help_text="[{rule, label, points}] behind the score")
    scored_at = models.DateTimeField(null=True, blank=True)
    probability = models.FloatField(_("conversion probability"), null=True, blank=True)
    probability_factors = models.JSONField(default=list, blank=True, help_text="[{feature, label, effect}]")
    score_model = models.ForeignKey(
        "leads.ScoreModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # SLA: the earliest deadline still open (for sorting and filtering), what was sent per SLA, speed-to-lead.
    sla_due_at = models.DateTimeField(_("next SLA deadline"), null=True, blank=True)
    sla_flags = models.JSONField(
        default=dict, blank=True, help_text="metric → {reminded, breached, escalated, rerouted}"
    )
    speed_to_lead_seconds = models.PositiveIntegerField(_("speed to lead (seconds)"), null=True, blank=True)
    routing_rule = models.ForeignKey(
        "leads.RoutingRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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
            # closed_at last: the board counts "won/lost in the last 30 days" of a member or team on the index
            models.Index(fields=["tenant", "owner", "status", "closed_at"], name="lead_owner_status_closed"),
            models.Index(fields=["tenant", "team", "status", "closed_at"], name="lead_team_status_closed"),
            models.Index(fields=["tenant", "person", "status"], name="lead_person_status"),
            models.Index(fields=["tenant", "-score", "-id"], name="lead_score_desc"),  # inbox by score (-score, -pk)
            # "Mine, by score": walks the member's own leads by score (through all leads by score it read 17,000
            # rows to find a page of a sales user's open ones, 37 ms at 1M leads)
            models.Index(fields=["tenant", "owner", "-score", "-id"], name="lead_owner_score"),
            models.Index(fields=["tenant", "captured_at"], name="lead_captured"),
            models.Index(fields=["tenant", "sla_due_at"], name="lead_sla_due"),
            # routing: a member's leads assigned this week (weekly capacity)
            models.Index(fields=["tenant", "owner", "assigned_at"], name="lead_owner_assigned"),
            # the pipeline board: best scores per open column; won/lost of the last days by closing time
            models.Index(fields=["tenant", "status", "-score", "-id"], name="lead_status_score"),
            models.Index(fields=["tenant", "status", "closed_at"], name="lead_status_closed"),
            # The board and inbox filtered by interest: counts per status (and closed since) from the index.
            models.Index(fields=["tenant", "interest", "status", "closed_at"], name="lead_interest_status"),
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
    # When the assignee got the in-app "coming due" reminder (so it is sent once).
    reminded_at = models.DateTimeField(null=True, blank=True)

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


# --- classification ---------------------------------------------------------------------------------


class ScoringRule(TenantModel):
    """A point rule: fit (a field of the lead, person or organisation) or engagement (responses, activities)."""

    class Operator(models.TextChoices):
        EQUALS = "eq", _("is")
        NOT_EQUALS = "ne", _("is not")
        IN = "in", _("is one of")
        PREFIX = "prefix", _("starts with")
        CONTAINS = "contains", _("contains")
        AT_LEAST = "gte", _("at least")
        AT_MOST = "lte", _("at most")
        SET = "set", _("is filled")
        UNSET = "unset", _("is empty")
        COUNT = "count", _("per occurrence")

    name = models.CharField(_("name"), max_length=120)
    # "lead.channel", "person.postcode", "organization.employees", "person.attr.<key>", "lead.question.<key>",
    # "engagement.response", "engagement.activity", "engagement.reached" (see leads/scoring.py for the catalogue)
    field = models.CharField(_("field"), max_length=80)
    operator = models.CharField(_("condition"), max_length=10, choices=Operator.choices, default=Operator.EQUALS)
    value = models.JSONField(_("value"), null=True, blank=True)
    points = models.IntegerField(_("points"))
    max_points = models.IntegerField(_("at most"), null=True, blank=True, help_text=_("Cap for engagement rules."))
    half_life_days = models.PositiveSmallIntegerField(
        _("half-life (days)"), null=True, blank=True, help_text=_("Engagement points halve after this many days.")
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class ScoringSettings(TenantModel):
    """Per tenant: grade thresholds, the score cap, and which score drives the grade."""

    class Driver(models.TextChoices):
        RULES = "rules", _("Rule score")
        MODEL = "model", _("Predictive model (rules while no model is active)")

    driver = models.CharField(_("grade is driven by"), max_length=8, choices=Driver.choices, default=Driver.RULES)
    max_score = models.PositiveSmallIntegerField(_("highest score"), default=100)
    grade_a_min = models.PositiveSmallIntegerField(_("grade A from score"), default=70)
    grade_b_min = models.PositiveSmallIntegerField(_("grade B from score"), default=45)
    grade_c_min = models.PositiveSmallIntegerField(_("grade C from score"), default=20)
    probability_a_min = models.FloatField(_("grade A from probability"), default=0.5)
    probability_b_min = models.FloatField(_("grade B from probability"), default=0.3)
    probability_c_min = models.FloatField(_("grade C from probability"), default=0.12)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("scoring settings")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="scoringsettings_one_per_tenant")]


class ScoreModel(TenantModel):
    """One trained version of the tenant's predictive model, with its holdout metrics."""

    class State(models.TextChoices):
        TRAINING = "training", _("training")
        READY = "ready", _("ready")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")
        FAILED = "failed", _("failed")

    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.TRAINING)
    trained_at = models.DateTimeField(_("trained"), null=True, blank=True)
    trained_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    train_rows = models.PositiveIntegerField(_("training leads"), default=0)
    holdout_rows = models.PositiveIntegerField(_("holdout leads"), default=0)
    holdout_from = models.DateTimeField(_("holdout from"), null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="roc_auc, lift_top_decile, calibration bins, …")
    parameters = models.JSONField(default=dict, blank=True, help_text="features, coefficients, scaling")
    message = models.CharField(max_length=500, blank=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("predictive model")
        verbose_name_plural = _("predictive models")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="scoremodel_unique_version")]


class QualificationQuestion(TenantModel):
    """A tenant-defined qualification question; answers live in ``Lead.qualification`` under ``key``."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        YES_NO = "bool", _("Yes/no")
        CHOICE = "choice", _("Single choice")
        MULTI = "multi", _("Multiple choice")

    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("answer type"), max_length=8, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required_to_qualify = models.BooleanField(_("required before 'qualified'"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification question")
        verbose_name_plural = _("qualification questions")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="question_unique_key_per_tenant")]

    def __str__(self) -> str:
        return self.label


# --- routing ------------------------------------------------------------------------------------------


class RoutingRule(TenantModel):
    """An ordered routing rule: the first active rule whose conditions all hold picks the target."""

    class Target(models.TextChoices):
        USER = "user", _("A person")
        TEAM = "team", _("A team")

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("round robin")
        FEWEST_OPEN = "fewest_open", _("fewest open leads")

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)
    # [{"field": "person.postcode", "op": "between", "value": ["80000", "87999"]}, …]; empty = fallback
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    target = models.CharField(_("target"), max_length=8, choices=Target.choices, default=Target.TEAM)
    target_member = models.ForeignKey(
        "accounts.Membership", verbose_name=_("person"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    target_team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    strategy = models.CharField(
        _("distribution"), max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]
        # the rules' version stamp (newest change, count) read before every routing decision
        indexes = [models.Index(fields=["tenant", "updated_at"], name="routingrule_changed")]

    def __str__(self) -> str:
        return self.name


class TeamRoutingState(TenantModel):
    """The round-robin pointer of a team; locked while a lead is routed so two workers never pick the same turn."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="routing_state")
    last_member = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class LeadProfile(TenantModel):
    """A member's lead settings: weekly capacity, whether routing may pick them, notifications."""

    membership = models.OneToOneField("accounts.Membership", on_delete=models.CASCADE, related_name="lead_profile")
    weekly_capacity = models.PositiveIntegerField(
        _("new leads per week"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    takes_leads = models.BooleanField(_("receives routed leads"), default=True)
    email_on_assignment = models.BooleanField(_("e-mail when a lead is assigned to me"), default=True)
    daily_digest = models.BooleanField(_("daily e-mail digest"), default=True)
    # The member's local date of the last digest sent (so the hourly job sends one a day).
    digest_sent_on = models.DateField(null=True, blank=True)

    objects = ConfigQuerySet.as_manager()


class Absence(TenantModel):
    membership = models.ForeignKey(
        "accounts.Membership", verbose_name=_("member"), on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_on"]
        indexes = [models.Index(fields=["tenant", "membership", "ends_on"], name="absence_member_end")]


# --- SLAs -----------------------------------------------------------------------------------------------


class BusinessCalendar(TenantModel):
    """The tenant's working hours and the federal state whose public holidays count."""

    state = models.CharField(_("federal state"), max_length=2, blank=True, help_text=_("e.g. BY; empty: nationwide"))
    workdays = models.JSONField(_("working days"), default=list, help_text="0 = Monday … 6 = Sunday")
    day_starts = models.TimeField(_("working day starts"), default=dt.time(8, 0))
    day_ends = models.TimeField(_("working day ends"), default=dt.time(17, 0))
    closed_days = models.JSONField(_("further closed days"), default=list, blank=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="calendar_one_per_tenant")]


class SlaPolicy(TenantModel):
    """How fast a lead of a grade must get its first contact, acceptance or outcome, in business time."""

    class Metric(models.TextChoices):
        FIRST_CONTACT = "first_contact", _("first contact")
        ACCEPT = "accept", _("acceptance")
        OUTCOME = "outcome", _("outcome")

    name = models.CharField(_("name"), max_length=120)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True, help_text=_("Empty: all"))
    metric = models.CharField(_("deadline for"), max_length=14, choices=Metric.choices)
    business_minutes = models.PositiveIntegerField(_("within (business minutes)"))
    remind_before_minutes = models.PositiveIntegerField(_("remind before (minutes)"), null=True, blank=True)
    escalate = models.BooleanField(_("escalate when missed"), default=True)
    reroute_after_minutes = models.PositiveIntegerField(
        _("re-route after missing it by (minutes)"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["metric", "grade", "id"]


# --- notifications --------------------------------------------------------------------------------------


class Notification(TenantModel):
    """An in-app message to one member: assignment, SLA reminder or escalation, hot lead, follow-up due."""

    class Kind(models.TextChoices):
        ASSIGNMENT = "assignment", _("Assignment")
        SLA_REMINDER = "sla_reminder", _("SLA reminder")
        SLA_ESCALATION = "sla_escalation", _("SLA escalation")
        HOT_LEAD = "hot_lead", _("Hot lead")
        FOLLOW_UP = "follow_up", _("Follow-up due")

    recipient = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "recipient", "read_at", "created_at"], name="notification_inbox")]
