"""Demo qualification questions: four typed questions and answers on the demo leads that got that far.

``questions_load(tenant)`` is idempotent: the questions are matched by key, and answers are only filled in
where a lead has none, so a second load changes nothing. Leads past qualification all answer the required
question (as the 'qualified' gate demands); leads still being qualified answer some.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Tenant
from leadwerk.leads.models import Lead, QualificationQuestion
from leadwerk.leads.states import Status


def demo_questions() -> list[dict]:
    return [
        {"key": "standorte", "label": _("Number of sites"), "kind": "number", "required_to_qualify": True},
        {"key": "anbieter", "label": _("Current supplier"), "kind": "choice",
         "choices": [_("None"), _("Competitor"), _("Own solution")]},
        {"key": "projektstart", "label": _("Planned project start"), "kind": "date"},
        {"key": "finanzierung", "label": _("Financing of interest"), "kind": "multi",
         "choices": [_("Purchase"), _("Leasing"), _("Rental")]},
    ]  # fmt: skip


def _answers(rng: random.Random, questions: dict[str, QualificationQuestion], lead: Lead, full: bool) -> dict:
    answers = {"standorte": rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 12])}
    if full or rng.random() < 0.6:
        answers["anbieter"] = rng.choice(questions["anbieter"].choices)
    if full or rng.random() < 0.4:
        start = lead.captured_at.date() + timedelta(days=rng.choice([30, 60, 90, 180, 365]))
        answers["projektstart"] = start.isoformat()
    if rng.random() < 0.5:
        choices = questions["finanzierung"].choices
        answers["finanzierung"] = [c for c in choices if rng.random() < 0.5] or [choices[0]]
    return answers


@transaction.atomic
def questions_load(tenant: Tenant) -> list[QualificationQuestion]:
    """The tenant's demo questions (by key) and answers on its demo leads that have none yet."""
    questions: dict[str, QualificationQuestion] = {}
    for position, spec in enumerate(demo_questions(), start=1):
        question, _created = QualificationQuestion.objects.get_or_create(
            tenant=tenant, key=spec["key"], defaults={**spec, "position": position}
        )
        questions[question.key] = question
    early = {Status.NEW, Status.QUALIFYING}
    changed = []
    for lead in Lead.objects.for_tenant(tenant.pk).filter(qualification={}).only("pk", "status", "captured_at"):
        rng = random.Random(f"{tenant.pk}-{lead.pk}")  # noqa: S311 (demo data; per lead, so a reload decides alike)
        if lead.status in early and rng.random() < 0.7:
            continue
        lead.qualification = _answers(rng, questions, lead, full=lead.status not in early)
        changed.append(lead)
    Lead.objects.bulk_update(changed, ["qualification"], batch_size=500)
    return list(questions.values())
