"""The marketing database: organisations, people, their consent, suppressions, tags and custom attributes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadwerk.core.models import TenantModel

from .querysets import ContactQuerySet, OrganizationQuerySet, PersonQuerySet


def validate_past_year(value: int | None) -> None:
    """A year of birth lies in the past (the form, the API and imports check the same)."""
    if value is not None and value > timezone.localdate().year:
        raise ValidationError(_("The year of birth cannot be in the future."), code="future")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    POST = "post", _("Post")
    SMS = "sms", _("SMS")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("granted")
    DENIED = "denied", _("denied")
    WITHDRAWN = "withdrawn", _("withdrawn")
    UNKNOWN = "unknown", _("unknown")


class Tag(TenantModel):
    name = models.CharField(_("name"), max_length=60)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class AttributeDefinition(TenantModel):
    """A tenant-defined, typed field on people or organisations; values live in the record's ``attributes``."""

    class RecordType(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANIZATION = "organization", _("Organisation")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes/no")
        CHOICE = "choice", _("Single choice")
        MULTICHOICE = "multichoice", _("Multiple choice")

    record_type = models.CharField(_("record type"), max_length=16, choices=RecordType.choices)
    key = models.SlugField(_("key"), max_length=40, help_text=_("Used in imports, exports and the API."))
    label = models.CharField(_("label"), max_length=80)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")
        ordering = ["record_type", "position", "label"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record_type", "key"], name="attribute_unique_key_per_tenant")
        ]

    def __str__(self) -> str:
        return self.label


class Address(models.Model):
    street = models.CharField(_("street and number"), max_length=120, blank=True)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    state = models.CharField(_("state"), max_length=40, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")

    class Meta:
        abstract = True


class Organization(TenantModel, Address):
    class LegalForm(models.TextChoices):
        GMBH = "GmbH", "GmbH"
        GMBH_CO_KG = "GmbH & Co. KG", "GmbH & Co. KG"
        AG = "AG", "AG"
        SE = "SE", "SE"
        KG = "KG", "KG"
        OHG = "OHG", "OHG"
        UG = "UG", "UG (haftungsbeschränkt)"
        GBR = "GbR", "GbR"
        EK = "e.K.", "e.K."
        EV = "e.V.", "e.V."
        SOLE = "sole", _("Sole proprietor")
        PUBLIC = "public", _("Public body")
        OTHER = "other", _("Other")

    class Employees(models.TextChoices):
        XS = "1-9", "1–9"
        S = "10-49", "10–49"
        M = "50-249", "50–249"
        L = "250-999", "250–999"
        XL = "1000+", _("1,000+")

    class Revenue(models.TextChoices):
        XS = "<2m", _("under €2 m")
        S = "2-10m", _("€2–10 m")
        M = "10-50m", _("€10–50 m")
        L = "50-250m", _("€50–250 m")
        XL = "250m+", _("over €250 m")

    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False, db_index=False)
    legal_form = models.CharField(_("legal form"), max_length=20, choices=LegalForm.choices, blank=True)
    industry_code = models.CharField(
        _("industry (WZ 2008)"), max_length=8, blank=True, help_text=_("Code of the German classification, e.g. 29.10.")
    )
    employees = models.CharField(_("employees"), max_length=10, choices=Employees.choices, blank=True)
    revenue = models.CharField(_("annual revenue"), max_length=10, choices=Revenue.choices, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    vat_id = models.CharField(_("VAT id"), max_length=20, blank=True)
    email = models.CharField(_("general e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("switchboard"), max_length=32, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    quality_flags = models.JSONField(default=list, blank=True)
    tags = models.ManyToManyField(Tag, through="OrganizationTag", blank=True, related_name="organizations")

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="organization_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "name_key", "id"], name="organization_name"),
            models.Index(fields=["tenant", "postcode"], name="organization_postcode"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.name} {self.legal_form}".strip()
            if self.legal_form not in ("", "sole", "public", "other")
            else self.name
        )


class Person(TenantModel, Address):
    """A target person. Lifecycle (target → lead → customer → dormant) is derived from links, never typed in."""

    class Salutation(models.TextChoices):
        MR = "mr", _("Mr")
        MS = "ms", _("Ms")
        DIVERSE = "diverse", _("Diverse")
        NONE = "", _("(none)")

    # Every index of this table starts with the tenant (Meta.indexes), so the foreign key needs none of
    # its own; at a million people each index costs imports and forms a B-tree write per new person.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)

    salutation = models.CharField(_("salutation"), max_length=10, choices=Salutation.choices, blank=True)
    title = models.CharField(_("title"), max_length=40, blank=True, help_text=_("e.g. Dr. or Prof. Dr."))
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=80)
    last_name_key = models.CharField(max_length=80, editable=False)
    position = models.CharField(_("position"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    use_organization_address = models.BooleanField(_("use the organisation's address"), default=False)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, default="de")
    birth_year = models.PositiveSmallIntegerField(
        _("year of birth"), null=True, blank=True, validators=[MinValueValidator(1900), validate_past_year]
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    attributes = models.JSONField(_("own fields"), default=dict, blank=True)
    quality_flags = models.JSONField(_("data-quality notes"), default=list, blank=True)
    # Current marketing consent per channel, kept in step with the Consent history by the services,
    # so that segments over a million people filter on columns instead of a latest-row subquery.
    consent_email = models.CharField(
        _("consent e-mail"), max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN
    )
    consent_phone = models.CharField(
        _("consent phone"), max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN
    )
    consent_post = models.CharField(
        _("consent post"), max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN
    )
    consent_sms = models.CharField(
        _("consent SMS"), max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.UNKNOWN
    )
    suppressed_reason = models.CharField(_("suppressed"), max_length=16, blank=True)
    # A probable duplicate found by the matcher, waiting for a person to decide.
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="possible_duplicates",
        verbose_name=_("possible duplicate of"),
    )
    tags = models.ManyToManyField(Tag, through="PersonTag", blank=True, related_name="people")

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="person_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "last_name_key", "id"], name="person_name"),
            models.Index(fields=["tenant", "email"], name="person_email"),
            models.Index(fields=["tenant", "phone"], name="person_phone"),
            models.Index(fields=["tenant", "mobile"], name="person_mobile"),
            models.Index(fields=["tenant", "postcode", "last_name_key"], name="person_postcode_name"),
            models.Index(fields=["tenant", "organization"], name="person_organization"),
            models.Index(fields=["tenant", "city"], name="person_city"),  # search by city (bench/lists)
            # Probable duplicates waiting for review: the review queue and the list filter read them per tenant.
            models.Index(fields=["tenant", "duplicate_of"], name="person_duplicate_of"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)

    @property
    def initials(self) -> str:
        return ((self.first_name[:1] or "") + (self.last_name[:1] or "")).upper()

    @property
    def suppressed_label(self) -> str:
        if not self.suppressed_reason:
            return ""
        return str(Suppression.Reason(self.suppressed_reason).label)

    def consent_for(self, channel: str) -> str:
        return getattr(self, f"consent_{channel}")


class PersonTag(TenantModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "person", "tag"], name="persontag_unique")]


class OrganizationTag(TenantModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "organization", "tag"], name="organizationtag_unique")]


class Affiliation(TenantModel):
    """A person's time at an organisation; the current one mirrors Person.organization."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="affiliations")
    position = models.CharField(max_length=120, blank=True)
    department = models.CharField(max_length=120, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]


class Consent(TenantModel):
    """One consent event. The history is never rewritten; the newest row per channel and purpose counts."""

    class Source(models.TextChoices):
        FORM = "form", _("Web form")
        IMPORT = "import", _("Import")
        API = "api", _("API")
        USER = "user", _("Entered by a user")
        AGENT = "agent", _("Call center")
        LETTER = "letter", _("Letter or e-mail")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=40, default="marketing")
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    recorded_at = models.DateTimeField(_("recorded"))
    proof_form = models.CharField(_("form or document"), max_length=200, blank=True)
    proof_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    proof_user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    wording_version = models.CharField(_("wording version"), max_length=40, blank=True)
    doi_confirmed_at = models.DateTimeField(_("double opt-in confirmed"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["tenant", "person", "channel", "purpose"], name="consent_person_channel")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_status_display()}"


class Suppression(TenantModel):
    """A blocked e-mail address or phone number, stored hashed; blocks marketing use and survives re-imports."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")

    class Reason(models.TextChoices):
        OBJECTION = "objection", _("Objection")
        BOUNCE = "bounce", _("Bounce")
        ROBINSON = "robinson", _("Robinson list")
        DECEASED = "deceased", _("Deceased")
        MOVED = "moved", _("Moved away")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    value_hash = models.CharField(max_length=64)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "value_hash"], name="suppression_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_reason_display()})"


class Segment(TenantModel):
    """A target group: a condition tree over people, re-evaluated when used, or frozen into a snapshot."""

    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # {"op": "and"|"or", "children": [{"field", "operator", "value"} | group, …]}; see contacts/segments.py.
    definition = models.JSONField(_("conditions"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, blank=True)
    frozen_at = models.DateTimeField(_("snapshot taken"), null=True, blank=True)
    # The last count, kept so that the segment list does not count every segment live.
    last_total = models.PositiveIntegerField(null=True, blank=True)
    last_eligible = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="segment_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class SegmentMember(TenantModel):
    """A person in a segment: part of its snapshot (frozen segments) or added by hand (``manual``, any segment)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    manual = models.BooleanField(default=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "segment", "person"], name="segmentmember_unique"),
        ]
        indexes = [models.Index(fields=["tenant", "segment", "manual"], name="segmentmember_manual")]


# --- duplicate finding and merging (contacts/dedup.py, contacts/merge.py) ---------------------------------


class DedupRun(TenantModel):
    """One run of the batch duplicate finder over a tenant's whole marketing database."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    started_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    threshold = models.FloatField(
        _("threshold"),
        validators=[MinValueValidator(0.5), MaxValueValidator(0.9999)],
        help_text=_("Pairs with at least this match probability are proposed."),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    people_count = models.PositiveIntegerField(_("people compared"), default=0)
    pairs_scored = models.PositiveBigIntegerField(_("pairs scored"), default=0)
    pairs_found = models.PositiveIntegerField(_("pairs above the threshold"), default=0)
    candidates_new = models.PositiveIntegerField(_("new proposals"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("duplicate search")
        verbose_name_plural = _("duplicate searches")
        indexes = [models.Index(fields=["tenant", "-id"], name="dedup_run_tenant")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class DuplicateCandidate(TenantModel):
    """A proposed pair of records of the same person (person_a < person_b), waiting for a decision."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("not a duplicate")

    class Source(models.TextChoices):
        BATCH = "batch", _("duplicate search")
        ONLINE = "online", _("on entry")

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("match probability"))
    levels = models.JSONField(_("evidence"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.BATCH)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    run = models.ForeignKey(DedupRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates")
    decided_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "person_a", "person_b"], name="duplicate_candidate_unique"),
            models.CheckConstraint(condition=Q(person_a__lt=models.F("person_b")), name="duplicate_candidate_order"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-score", "id"], name="duplicate_candidate_queue"),
            models.Index(fields=["person_b"], name="duplicate_candidate_b"),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} ~ {self.person_b_id} ({self.score:.3f})"


class Merge(TenantModel):
    """Two records made one. Keeps both records as they were and every moved row, so the merge can be undone.

    The merged-away person is deleted; its id and snapshot stay here (plain ids, no foreign keys, so that
    a later merge of the survivor does not take this history with it).
    """

    by = models.ForeignKey("accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    survivor_pk = models.PositiveBigIntegerField(_("kept person"))
    other_pk = models.PositiveBigIntegerField(_("merged person"))
    snapshot = models.JSONField(default=dict)
    choices = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        "accounts.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [
            models.Index(fields=["tenant", "survivor_pk"], name="merge_survivor"),
            models.Index(fields=["tenant", "other_pk"], name="merge_other"),
        ]

    def __str__(self) -> str:
        return f"{self.other_pk} → {self.survivor_pk}"
