"""Demo qualification questions: loaded once, typed, answers pass the questions' own validation."""

from __future__ import annotations

import datetime as dt

import pytest

from leadwerk.demo.questions import questions_load
from leadwerk.leads import questions, services
from leadwerk.leads.models import Lead
from leadwerk.leads.models import QualificationQuestion as Question

pytestmark = pytest.mark.django_db


def test_demo_questions_and_answers_are_valid_and_load_once(tenant, admin):
    for index in range(12):
        lead = services.lead_capture(by=admin, person={"last_name": f"Demo{index}"}).lead
        if index % 2:
            Lead.objects.filter(pk=lead.pk).update(status="in_progress")
    loaded = questions_load(tenant)
    assert [q.key for q in loaded] == ["standorte", "anbieter", "projektstart", "finanzierung"]
    assert Question.objects.get(key="standorte").required_to_qualify
    for lead in Lead.objects.filter(status="in_progress"):
        assert lead.qualification["standorte"] >= 1 and "anbieter" in lead.qualification
        dt.date.fromisoformat(lead.qualification["projektstart"])
    for lead in Lead.objects.exclude(qualification={}):
        assert questions.qualification_clean(tenant.pk, lead.qualification) == lead.qualification
    before = {lead.pk: lead.qualification for lead in Lead.objects.all()}
    questions_load(tenant)
    assert Question.objects.count() == 4
    assert {lead.pk: lead.qualification for lead in Lead.objects.all()} == before
