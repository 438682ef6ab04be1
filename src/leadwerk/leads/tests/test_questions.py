"""Tenant-defined qualification questions: configuration, typed answers, the 'qualified' gate; screen and API."""

from __future__ import annotations

import pytest
from conftest import bearer, login
from django.urls import reverse

from leadwerk.core.exceptions import ValidationFailed
from leadwerk.leads import questions, services
from leadwerk.leads.models import Lead, LeadEvent
from leadwerk.leads.models import QualificationQuestion as Question
from leadwerk.leads.questions import QuestionNotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def standorte(tenant):
    return Question.objects.create(
        tenant=tenant, key="standorte", label="Anzahl Standorte", kind="number", required_to_qualify=True, position=1
    )


@pytest.fixture
def anbieter(tenant):
    return Question.objects.create(
        tenant=tenant, key="anbieter", label="Bestehender Anbieter", kind="choice",
        choices=["Keiner", "Wettbewerber", "Eigenlösung"], position=2,
    )  # fmt: skip


@pytest.fixture
def lead(admin):
    return services.lead_capture(by=admin, person={"last_name": "Wagner", "email": "jw@example.de"}).lead


# --- answers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "choices", "raw", "stored"),
    [
        ("text", [], "  Zwei   Lager ", "Zwei Lager"),
        ("number", [], "3", 3),
        ("number", [], "2,5", 2.5),
        ("number", [], 7, 7),
        ("date", [], "01.04.2025", "2025-04-01"),
        ("date", [], "2025-04-01", "2025-04-01"),
        ("bool", [], "ja", True),
        ("bool", [], False, False),
        ("choice", ["Keiner", "Wettbewerber"], "keiner", "Keiner"),
        ("multi", ["A", "B", "C"], "c; a", ["A", "C"]),
        ("multi", ["A", "B", "C"], ["B"], ["B"]),
        ("text", [], "", None),
    ],
)
def test_answers_are_stored_typed(tenant, kind, choices, raw, stored):
    question = Question(tenant=tenant, key="q", label="Q", kind=kind, choices=choices)
    assert questions.answer_clean(question, raw) == stored


@pytest.mark.parametrize(
    ("kind", "choices", "raw"),
    [("number", [], "drei"), ("date", [], "morgen"), ("bool", [], "vielleicht"), ("choice", ["A"], "B"),
     ("multi", ["A", "B"], "A;Z"), ("text", [], {"x": 1}), ("number", [], True)],
)  # fmt: skip
def test_wrong_answers_are_field_errors(tenant, kind, choices, raw):
    question = Question(tenant=tenant, key="q", label="Q", kind=kind, choices=choices)
    with pytest.raises(ValidationFailed) as error:
        questions.answer_clean(question, raw)
    assert error.value.field == "qualification.q"


def test_capture_and_update_store_typed_answers(admin, standorte, anbieter):
    result = services.lead_capture(
        by=admin, person={"last_name": "Wagner"}, lead={"qualification": {"standorte": "4", "anbieter": "keiner"}}
    )
    assert result.lead.qualification == {"standorte": 4, "anbieter": "Keiner"}
    services.lead_update(lead=result.lead, by=admin, data={"qualification": {"standorte": 5}})
    result.lead.refresh_from_db()
    assert result.lead.qualification == {"standorte": 5}
    event = LeadEvent.objects.filter(lead=result.lead, kind="update").get()
    assert event.before == {"qualification": {"standorte": 4, "anbieter": "Keiner"}}


def test_unknown_question_key_is_refused_and_nothing_changes(admin, lead, standorte):
    with pytest.raises(ValidationFailed) as error:
        services.lead_update(lead=lead, by=admin, data={"qualification": {"flotte": 3}})
    assert error.value.field == "qualification.flotte"
    lead.refresh_from_db()
    assert lead.qualification == {} and lead.version == 1


def test_qualified_is_refused_naming_the_missing_required_answers(admin, lead, standorte, anbieter):
    with pytest.raises(ValidationFailed) as error:
        services.lead_transition(lead=lead, by=admin, to="qualified")
    assert "Anzahl Standorte" in error.value.message and "Bestehender Anbieter" not in error.value.message
    lead.refresh_from_db()
    assert lead.status == "new"
    services.lead_update(lead=lead, by=admin, data={"qualification": {"standorte": 2}})
    services.lead_transition(lead=lead, by=admin, to="qualified")
    lead.refresh_from_db()
    assert lead.status == "qualified"


def test_a_retired_required_question_does_not_block(admin, lead, standorte):
    questions.question_active_set(question=standorte, by=admin, active=False)
    services.lead_transition(lead=lead, by=admin, to="qualified")
    assert Lead.objects.get(pk=lead.pk).status == "qualified"


# --- configuration -------------------------------------------------------------------------------------


def test_admin_defines_reorders_and_retires_questions(admin, manager):
    a = questions.question_create(by=admin, data={"key": "standorte", "label": "Anzahl Standorte", "kind": "number"})
    b = questions.question_create(
        by=manager, data={"key": "start", "label": "Projektstart", "kind": "date", "required_to_qualify": True}
    )
    assert [q.key for q in Question.objects.order_by("position")] == ["standorte", "start"]
    questions.question_move(question=b, by=admin, offset=-1)
    assert [q.key for q in Question.objects.order_by("position")] == ["start", "standorte"]
    questions.question_reorder(by=admin, keys=["standorte", "start"])
    assert [q.key for q in Question.objects.order_by("position")] == ["standorte", "start"]
    questions.question_active_set(question=a, by=admin, active=False)
    assert not Question.objects.get(pk=a.pk).active


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"key": "Bad Key!", "label": "X"}, "key"),
        ({"key": "ok", "label": ""}, "label"),
        ({"key": "ok", "label": "X", "kind": "colour"}, "kind"),
        ({"key": "ok", "label": "X", "kind": "choice", "choices": ["nur eine"]}, "choices"),
    ],
)
def test_bad_definitions_are_field_errors(admin, data, field):
    with pytest.raises(ValidationFailed) as error:
        questions.question_create(by=admin, data=data)
    assert error.value.field == field
    assert not Question.objects.exists()


def test_key_is_unique_and_fixed_once_answered(admin, lead, standorte):
    with pytest.raises(ValidationFailed) as error:
        questions.question_create(by=admin, data={"key": "standorte", "label": "Nochmal"})
    assert error.value.field == "key"
    services.lead_update(lead=lead, by=admin, data={"qualification": {"standorte": 1}})
    with pytest.raises(ValidationFailed) as error:
        questions.question_update(question=standorte, by=admin, data={"key": "sites"})
    assert error.value.field == "key"
    with pytest.raises(ValidationFailed) as error:
        questions.question_update(question=standorte, by=admin, data={"kind": "text"})
    assert error.value.field == "kind"
    questions.question_update(question=standorte, by=admin, data={"label": "Standorte (Anzahl)"})
    assert Question.objects.get(pk=standorte.pk).label == "Standorte (Anzahl)"


def test_other_roles_and_tenants_cannot_configure(sales, marketing, outsider, standorte):
    for member in (sales, marketing):
        with pytest.raises(QuestionNotFound):
            questions.question_create(by=member, data={"key": "x", "label": "X"})
    with pytest.raises(QuestionNotFound):
        questions.question_update(question=standorte, by=outsider, data={"label": "mine"})


# --- screen ------------------------------------------------------------------------------------------


def _url(name, tenant, *args):
    return reverse(f"leads:{name}", args=[tenant.slug, *args])


def test_questions_screen_empty_add_error_edit(client, admin, tenant):
    login(client, admin)
    page = client.get(_url("question_list", tenant))
    assert page.status_code == 200 and "No questions yet" in page.text
    assert _url("question_list", tenant) in client.get(_url("lead_settings", tenant)).text
    bad = client.post(_url("question_list", tenant), {"label": "Anbieter", "key": "anbieter", "kind": "choice"})
    assert bad.status_code == 422 and "Give at least two answers" in bad.text and not Question.objects.exists()
    added = client.post(
        _url("question_list", tenant),
        {"label": "Anbieter", "key": "anbieter", "kind": "choice", "choices": "Keiner\nWettbewerber"},
    )
    assert added.status_code == 302
    question = Question.objects.get()
    assert question.choices == ["Keiner", "Wettbewerber"]
    edit = client.get(_url("question_edit", tenant, question.pk))
    assert edit.status_code == 200 and "Wettbewerber" in edit.text
    client.post(_url("question_edit", tenant, question.pk),
                {"label": "Aktueller Anbieter", "key": "anbieter", "kind": "choice", "choices": "Keiner\nA\nB",
                 "required_to_qualify": "on"})  # fmt: skip
    question.refresh_from_db()
    assert question.label == "Aktueller Anbieter" and question.required_to_qualify and len(question.choices) == 3
    client.post(_url("question_toggle", tenant, question.pk))
    assert not Question.objects.get().active


def test_questions_screen_is_404_for_other_roles_and_tenants(client, sales, marketing, outsider, tenant, standorte):
    for member in (sales, marketing, outsider):
        login(client, member)
        assert client.get(_url("question_list", tenant)).status_code == 404
        assert client.get(_url("question_edit", tenant, standorte.pk)).status_code == 404
        assert client.post(_url("question_toggle", tenant, standorte.pk)).status_code == 404
    assert Question.objects.get().active


def test_lead_page_form_has_one_input_per_question_with_field_errors(client, admin, tenant, lead, standorte, anbieter):
    login(client, admin)
    page = client.get(_url("lead_detail", tenant, lead.pk))
    assert 'name="qualification.standorte"' in page.text and "Anzahl Standorte" in page.text
    assert "Required before the lead is qualified." in page.text
    form = {"version": lead.version, "qualification.standorte": "drei", "qualification.anbieter": "Keiner"}
    bad = client.post(_url("lead_qualify", tenant, lead.pk), form)
    assert bad.status_code == 422 and "Enter a number." in bad.text
    assert Lead.objects.get(pk=lead.pk).qualification == {}
    good = client.post(_url("lead_qualify", tenant, lead.pk), {**form, "qualification.standorte": "3"})
    assert good.status_code == 302
    assert Lead.objects.get(pk=lead.pk).qualification == {"standorte": 3, "anbieter": "Keiner"}
    refused = client.post(_url("lead_transition", tenant, lead.pk), {"to": "qualified", "version": lead.version + 1})
    assert refused.status_code == 302  # answered now: the gate lets it through
    assert Lead.objects.get(pk=lead.pk).status == "qualified"


def test_status_form_names_the_missing_answers(client, admin, tenant, lead, standorte):
    login(client, admin)
    response = client.post(_url("lead_transition", tenant, lead.pk), {"to": "qualified", "version": lead.version})
    assert response.status_code == 422 and "Anzahl Standorte" in response.text
    assert Lead.objects.get(pk=lead.pk).status == "new"


# --- API ---------------------------------------------------------------------------------------------


def test_api_crud_and_order(client, admin, tenant):
    headers = bearer(admin)
    url = "/api/v1/qualification-questions"
    created = client.post(url, {"key": "start", "label": "Projektstart", "kind": "date"},
                          content_type="application/json", headers=headers)  # fmt: skip
    assert created.status_code == 201 and created.json()["kind"] == "date"
    second = client.post(url, {"key": "standorte", "label": "Standorte", "kind": "number"},
                         content_type="application/json", headers=headers).json()  # fmt: skip
    bad = client.post(url, {"key": "x y", "label": "X"}, content_type="application/json", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "key"
    order = client.put(f"{url}/order", {"keys": ["standorte", "start"]}, content_type="application/json",
                       headers=headers)  # fmt: skip
    assert [q["key"] for q in order.json()] == ["standorte", "start"]
    patched = client.patch(f"{url}/{second['id']}", {"required_to_qualify": True}, content_type="application/json",
                           headers=headers)  # fmt: skip
    assert patched.status_code == 200 and patched.json()["required_to_qualify"] is True
    retired = client.delete(f"{url}/{second['id']}", headers=headers)
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert [q["key"] for q in client.get(f"{url}?active=true", headers=headers).json()] == ["start"]


def test_api_answers_on_leads_accepted_returned_and_checked(client, admin, standorte, anbieter):
    headers = bearer(admin)
    body = {"person": {"last_name": "Wagner"}, "qualification": {"standorte": "2", "anbieter": "keiner"}}
    created = client.post("/api/v1/leads", body, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.json()
    lead = created.json()["lead"]
    assert lead["qualification"] == {"standorte": 2, "anbieter": "Keiner"}
    bad = client.patch(f"/api/v1/leads/{lead['id']}", {"qualification": {"flotte": 1}},
                       content_type="application/json", headers=headers)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "qualification.flotte"
    wrong = client.patch(f"/api/v1/leads/{lead['id']}", {"qualification": {"standorte": "viele"}},
                         content_type="application/json", headers=headers)  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "qualification.standorte"
    assert Lead.objects.get(pk=lead["id"]).qualification == {"standorte": 2, "anbieter": "Keiner"}


def test_api_walls(client, admin, sales, outsider, standorte):
    url = f"/api/v1/qualification-questions/{standorte.pk}"
    assert client.get(url, headers=bearer(outsider)).status_code == 404
    assert client.patch(url, {"label": "x"}, content_type="application/json", headers=bearer(sales)).status_code == 404
    assert client.delete(url, headers=bearer(sales)).status_code == 404
    assert client.get("/api/v1/qualification-questions", headers=bearer(outsider)).json() == []
    assert client.get(url, headers=bearer(sales)).status_code == 200  # readers see the questions they answer
    created = client.post("/api/v1/qualification-questions", {"key": "x", "label": "X"},
                          content_type="application/json", headers=bearer(sales))  # fmt: skip
    assert created.status_code == 404
    assert Question.objects.get().label == "Anzahl Standorte"
