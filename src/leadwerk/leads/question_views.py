"""The qualification questions screen: list, add, edit, reorder, retire (admins and managers)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import form_error
from leadwerk.core.widgets import DateInput

from . import questions
from .models import QualificationQuestion
from .roles import LEAD_ADMINS


class QuestionForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Question"), max_length=200)
    key = forms.CharField(
        label=gettext_lazy("Key"),
        max_length=40,
        help_text=gettext_lazy("Used in imports and the API, e.g. standorte. Fixed once leads have answered."),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Answer type"), choices=QualificationQuestion.Kind.choices)
    choices = forms.CharField(
        label=gettext_lazy("Answers to choose from"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line; for single and multiple choice."),
    )
    required_to_qualify = forms.BooleanField(label=gettext_lazy("Required before a lead is qualified"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "question_%s")
        super().__init__(*args, **kwargs)

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["choices"] = [line for line in data["choices"].splitlines() if line.strip()]
        return data

    @classmethod
    def for_question(cls, question: QualificationQuestion, *args, **kwargs) -> QuestionForm:
        initial = {
            "label": question.label,
            "key": question.key,
            "kind": question.kind,
            "choices": "\n".join(question.choices),
            "required_to_qualify": question.required_to_qualify,
        }
        return cls(*args, initial=initial, **kwargs)


def _list(request: HttpRequest):
    return QualificationQuestion.objects.visible_to(request.membership).order_by("position", "id")


def _question(request: HttpRequest, pk: int) -> QualificationQuestion:
    return get_object_or_404(QualificationQuestion.objects.visible_to(request.membership), pk=pk)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("leads:question_list", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
def question_list(request: HttpRequest) -> HttpResponse:
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = questions.question_create(by=request.membership, data=form.data_for_service())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Question “%(label)s” added.") % {"label": question.label})
            return _back(request)
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/questions.html", {"questions": _list(request), "form": form}, status=status)


@tenant_view(roles=LEAD_ADMINS)
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question(request, pk)
    form = QuestionForm(request.POST) if request.method == "POST" else QuestionForm.for_question(question)
    if request.method == "POST" and form.is_valid():
        try:
            questions.question_update(question=question, by=request.membership, data=form.data_for_service())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return _back(request)
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/questions_edit.html", {"question": question, "form": form}, status=status)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def question_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question(request, pk)
    questions.question_active_set(question=question, by=request.membership, active=not question.active)
    if question.active:
        messages.success(request, _("Question brought back."))
    else:
        messages.success(request, _("Question retired; the answers stay on the leads."))
    return _back(request)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def question_move(request: HttpRequest, pk: int) -> HttpResponse:
    question = _question(request, pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    questions.question_move(question=question, by=request.membership, offset=offset)
    return _back(request)


# --- the questions on the lead page's qualification form ------------------------------------------------

ANSWER = "qualification."  # form field name prefix: the services' error field names match the form's fields


def question_form_fields(tenant_id: int, answers: dict) -> dict[str, forms.Field]:
    """One input per active question, in list order, filled with the lead's answers."""
    fields: dict[str, forms.Field] = {}
    K = QualificationQuestion.Kind
    for q in questions.questions_for(tenant_id, active_only=True).values():
        help_text = _("Required before the lead is qualified.") if q.required_to_qualify else ""
        common = {"label": q.label, "required": False, "help_text": help_text, "initial": answers.get(q.key)}
        match q.kind:
            case K.NUMBER:
                field = forms.DecimalField(max_digits=15, decimal_places=4, **common)
            case K.DATE:
                field = forms.DateField(widget=DateInput(), **common)
            case K.YES_NO:
                field = forms.NullBooleanField(widget=forms.NullBooleanSelect, **common)
            case K.CHOICE:
                field = forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in q.choices]], **common)
            case K.MULTI:
                widget = forms.SelectMultiple(attrs={"size": min(len(q.choices), 6)})
                field = forms.MultipleChoiceField(choices=[(c, c) for c in q.choices], widget=widget, **common)
            case _:
                field = forms.CharField(max_length=1000, **common)
        fields[ANSWER + q.key] = field
    return fields


def question_answers(cleaned_data: dict, current: dict) -> dict:
    """The lead's answers with the form's applied (an emptied input removes its answer; retired ones stay)."""
    changes = {name.removeprefix(ANSWER): value for name, value in cleaned_data.items() if name.startswith(ANSWER)}
    return questions.qualification_merge(current, changes)
