"""In-app notifications (and, where the member wants them, e-mails) about leads.

- ``notify()``: the one way to leave a member a message (routing, SLAs, scoring and this module call it).
- Assignment: every assignment to a member (``services._assign``) notifies them in the app and, unless they
  opted out (``LeadProfile.email_on_assignment``), by e-mail through a task after the commit, so a slow
  SMTP server never holds up the request.
- The follow-up reminder (every 5 minutes) and the daily digest (hourly; 7:00 in the tenant's time zone).

Texts are written in the recipient's language (``User.language``, else the tenant's), not the actor's.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership, Tenant
from leadwerk.accounts.services import member_language
from leadwerk.core.exceptions import NotFound

from . import myday
from .models import FollowUp, Grade, Lead, LeadProfile, Notification, Rating
from .roles import LEAD_WORKERS

log = logging.getLogger(__name__)

# The bell counts at most this many unread notifications and shows "9+" beyond.
BELL_LIMIT = 10
REMINDER_AHEAD = dt.timedelta(minutes=15)
# A follow-up that came due while the job was late still gets its reminder within this grace.
REMINDER_GRACE = dt.timedelta(minutes=10)
DIGEST_HOUR = 7
DIGEST_ROWS = 20


def notify(recipient: Membership, kind: str, text: str, lead: Lead | None = None) -> Notification | None:
    """Leave a message for one active member; inactive members get nothing."""
    if not recipient.is_active:
        return None
    return Notification.objects.create(
        tenant_id=recipient.tenant_id, recipient=recipient, kind=kind, lead=lead, text=text[:300]
    )


# --- reading and marking ---------------------------------------------------------------------------


def unread_count(membership: Membership | None) -> int:
    """Unread notifications of the member, counted up to BELL_LIMIT (one small indexed COUNT)."""
    if membership is None:
        return 0
    unread = Notification.objects.visible_to(membership).filter(read_at__isnull=True)
    return unread.order_by()[:BELL_LIMIT].count()


@transaction.atomic
def notification_read(*, notification: Notification, by: Membership) -> Notification:
    """Mark one of the member's own notifications read (someone else's is 'not found')."""
    if notification.recipient_id != by.pk or notification.tenant_id != by.tenant_id:
        raise NotFound(_("Notification not found."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


@transaction.atomic
def notifications_read_all(*, by: Membership) -> int:
    """Mark all of the member's unread notifications read; returns how many."""
    now = timezone.now()
    return Notification.objects.visible_to(by).filter(read_at__isnull=True).update(read_at=now, updated_at=now)


@transaction.atomic
def notification_settings_set(*, by: Membership, email_on_assignment: bool, daily_digest: bool) -> LeadProfile:
    """A member chooses their own e-mails: one per assignment, and the morning digest."""
    profile, _created = LeadProfile.objects.get_or_create(membership=by, defaults={"tenant_id": by.tenant_id})
    profile.email_on_assignment, profile.daily_digest = email_on_assignment, daily_digest
    profile.save(update_fields=["email_on_assignment", "daily_digest", "updated_at"])
    return profile


def notification_settings(membership: Membership) -> dict[str, bool]:
    """The member's e-mail choices; without a profile, both are on."""
    row = LeadProfile.objects.filter(membership=membership).values("email_on_assignment", "daily_digest").first()
    return row or {"email_on_assignment": True, "daily_digest": True}


def _carries_profile(member: Membership) -> bool:
    """The member came with its user, tenant and lead profile (or the knowledge that it has none)."""
    return (
        Membership.user.is_cached(member)
        and Membership.tenant.is_cached(member)
        and Membership.lead_profile.related.is_cached(member)
    )


def _wants_assignment_mail(owner: Membership) -> bool:
    """``notification_settings(owner)["email_on_assignment"]`` from a profile read with the member."""
    try:
        return owner.lead_profile.email_on_assignment
    except LeadProfile.DoesNotExist:
        return True


# --- helpers --------------------------------------------------------------------------------------------


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def lead_url(lead: Lead, tenant: Tenant) -> str:
    return absolute_url(reverse("leads:lead_detail", kwargs={"tenant": tenant.slug, "pk": lead.pk}))


def _person_name(lead: Lead) -> str:
    person = lead.person
    return person.full_name or person.email or f"#{lead.pk}"


def _is_hot(lead: Lead) -> bool:
    return lead.rating == Rating.HOT or lead.grade == Grade.A


# --- assignment -----------------------------------------------------------------------------------------


def assignment_notify(*, lead: Lead, owner: Membership, by: Membership | None) -> Notification | None:
    """Tell a member a lead is now theirs: in the app at once, by e-mail after the commit (if they want it).

    Taking a lead yourself needs no message.
    """
    if by is not None and owner.pk == by.pk:
        return None
    if not _carries_profile(owner):  # routing's member carries them, read in this transaction
        owner = Membership.objects.select_related("user", "tenant", "lead_profile").get(pk=owner.pk)
    hot = _is_hot(lead)
    with translation.override(member_language(owner)):
        subject = lead.title or (lead.interest.name if lead.interest_id else "")
        template = _("Hot lead for you: %(name)s") if hot else _("New lead for you: %(name)s")
        text = template % {"name": _person_name(lead)}
        if subject:
            text = f"{text} · {subject}"
    kind = Notification.Kind.HOT_LEAD if hot else Notification.Kind.ASSIGNMENT
    note = notify(owner, kind, text, lead)
    if note is not None and owner.user.email and _wants_assignment_mail(owner):
        transaction.on_commit(lambda: assignment_mail_send.enqueue(tenant_id=note.tenant_id, notification_id=note.pk))
    return note


def _lead_summary(lead: Lead) -> dict:
    return {
        "lead": lead,
        "person": lead.person,
        "organization": lead.organization,
        "interest": lead.interest.name if lead.interest_id else "",
        "channel": lead.get_channel_display(),
        "message": Truncator(" ".join(lead.message.split())).chars(400),
        "sla_due_at": lead.sla_due_at,
        "hot": _is_hot(lead),
    }


@task
def assignment_mail_send(*, tenant_id: int, notification_id: int) -> int:
    """The assignment e-mail: the lead's summary and a link, in the recipient's language and time zone.

    Sent once (``emailed_at``), and only while the lead is still the recipient's.
    """
    note = (
        Notification.objects.filter(tenant_id=tenant_id, pk=notification_id, emailed_at__isnull=True)
        .select_related("recipient__user", "recipient__tenant", "lead__person", "lead__organization", "lead__interest")
        .first()
    )
    if note is None or note.lead is None:
        return 0
    recipient, lead = note.recipient, note.lead
    if not (recipient.is_active and recipient.user.is_active and recipient.user.email):
        return 0
    if lead.owner_id != recipient.pk:
        return 0  # re-assigned before the mail went out
    if not notification_settings(recipient)["email_on_assignment"]:
        return 0
    tenant = recipient.tenant
    with translation.override(member_language(recipient)), timezone.override(ZoneInfo(tenant.timezone)):
        context = {
            **_lead_summary(lead),
            "tenant": tenant,
            "recipient": recipient,
            "url": lead_url(lead, tenant),
            "settings_url": absolute_url(reverse("leads:my_day", kwargs={"tenant": tenant.slug})),
        }
        template = _("Hot lead for you: %(name)s") if context["hot"] else _("New lead for you: %(name)s")
        subject = template % {"name": _person_name(lead)}
        text = render_to_string("leads/email/assignment.txt", context)
        html = render_to_string("leads/email/assignment.html", context)
    mail = EmailMultiAlternatives(subject, text, None, [recipient.user.email])
    mail.attach_alternative(html, "text/html")
    sent = mail.send()
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
    return sent


# --- follow-up reminder ---------------------------------------------------------------------------------


def _lead_workers():
    return (
        Membership.objects.filter(is_active=True, user__is_active=True, role__in=LEAD_WORKERS)
        .select_related("user", "tenant", "team")
        .order_by("tenant_id", "pk")
    )


def follow_ups_remind(*, now: dt.datetime | None = None) -> int:
    """Remind each assignee in the app of their follow-ups coming due in the next 15 minutes, once each."""
    now = now or timezone.now()
    sent = 0
    for member in _lead_workers().iterator():
        due = (
            myday.open_follow_ups(member)
            .filter(due_at__gt=now - REMINDER_GRACE, due_at__lte=now + REMINDER_AHEAD, reminded_at__isnull=True)
            .order_by("due_at", "pk")[:50]
        )
        for follow_up in due:
            with transaction.atomic():
                claimed = FollowUp.objects.filter(pk=follow_up.pk, reminded_at__isnull=True).update(reminded_at=now)
                if not claimed:
                    continue  # another worker was faster
                with translation.override(member_language(member)):
                    local = timezone.localtime(follow_up.due_at, ZoneInfo(member.tenant.timezone))
                    text = _("%(kind)s at %(time)s: %(name)s") % {
                        "kind": follow_up.get_kind_display(),
                        "time": formats.time_format(local, "TIME_FORMAT"),
                        "name": _person_name(follow_up.lead),
                    }
                    if follow_up.note:
                        text = f"{text} · {follow_up.note}"
                if notify(member, Notification.Kind.FOLLOW_UP, text, follow_up.lead) is not None:
                    sent += 1
    return sent


# --- daily digest ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    overdue: myday.Bucket
    due_today: myday.Bucket
    sla_leads: myday.Bucket
    new_leads: myday.Bucket

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.due_today or self.sla_leads or self.new_leads)


def digest_for(membership: Membership, now: dt.datetime) -> Digest:
    """What the morning mail lists: overdue and today's follow-ups, SLA deadlines today, leads new since a day."""
    _today, _start, tomorrow = myday.day_bounds(membership, now)
    follow_ups = myday.open_follow_ups(membership)
    return Digest(
        overdue=myday._bucket(follow_ups.filter(due_at__lt=now), DIGEST_ROWS),
        due_today=myday._bucket(follow_ups.filter(due_at__gte=now, due_at__lt=tomorrow), DIGEST_ROWS),
        sla_leads=myday._bucket(myday.sla_leads(membership, tomorrow), DIGEST_ROWS),
        new_leads=myday._bucket(
            myday.untouched_leads(
                membership,
                Q(assigned_at__gte=now - dt.timedelta(days=1)) | Q(captured_at__gte=now - dt.timedelta(days=1)),
            ),
            DIGEST_ROWS,
        ),
    )


def digest_send(*, membership: Membership, now: dt.datetime | None = None) -> bool:
    """Send one member their digest for today, at most once a day; an empty digest is not sent.

    The day is claimed before the mail goes out (``LeadProfile.digest_sent_on``): a failing SMTP server
    costs that day's digest rather than sending it twice.
    """
    now = now or timezone.now()
    today, _start, _tomorrow = myday.day_bounds(membership, now)
    if not (membership.is_active and membership.user.is_active and membership.user.email):
        return False
    with transaction.atomic():
        profile, _created = LeadProfile.objects.get_or_create(
            membership=membership, defaults={"tenant_id": membership.tenant_id}
        )
        if not profile.daily_digest:
            return False
        claimed = (
            LeadProfile.objects.filter(pk=profile.pk)
            .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
            .update(digest_sent_on=today)
        )
    if not claimed:
        return False
    digest = digest_for(membership, now)
    if digest.is_empty:
        return False
    tenant = membership.tenant
    with translation.override(member_language(membership)), timezone.override(ZoneInfo(tenant.timezone)):
        context = {
            "digest": digest,
            "recipient": membership,
            "tenant": tenant,
            "today": today,
            "my_day_url": absolute_url(reverse("leads:my_day", kwargs={"tenant": tenant.slug})),
            "lead_base": absolute_url(reverse("leads:lead_inbox", kwargs={"tenant": tenant.slug})),
        }
        subject = _("Your day at %(tenant)s: %(date)s") % {
            "tenant": tenant.name,
            "date": formats.date_format(today, "SHORT_DATE_FORMAT"),
        }
        text = render_to_string("leads/email/digest.txt", context)
        html = render_to_string("leads/email/digest.html", context)
    mail = EmailMultiAlternatives(subject, text, None, [membership.user.email])
    mail.attach_alternative(html, "text/html")
    mail.send()
    return True


def digests_send_due(*, now: dt.datetime | None = None) -> int:
    """Hourly: send the digest to every member of each tenant where it is now 7 o'clock."""
    now = now or timezone.now()
    tenants = [t.pk for t in Tenant.objects.all() if now.astimezone(ZoneInfo(t.timezone)).hour == DIGEST_HOUR]
    if not tenants:
        return 0
    sent = failed = 0
    members = _lead_workers().filter(tenant_id__in=tenants).exclude(user__email="")
    members = members.exclude(lead_profile__daily_digest=False)
    for member in members.iterator():
        try:
            sent += digest_send(membership=member, now=now)
        except Exception:  # one member's broken address must not cost everybody else their digest
            failed += 1
            log.exception("daily digest for membership %s failed", member.pk)
    if failed:
        raise RuntimeError(f"{failed} daily digest(s) failed; see the log")
    return sent
