"""API of the tenant's qualification questions. Same services as the screen; answers go through the lead API."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from leadwerk.core.exceptions import NotFound

from . import questions
from .models import QualificationQuestion
from .roles import LEAD_ADMINS

router = Router(tags=["qualification questions"])


class QuestionIn(Schema):
    key: str = Field(max_length=40, description="Answers are stored under this key in a lead's qualification.")
    label: str = Field(max_length=200)
    kind: QualificationQuestion.Kind = QualificationQuestion.Kind.TEXT
    choices: list[str] = Field(default_factory=list, description="The answers to choose from (choice, multi).")
    required_to_qualify: bool = False
    active: bool = True


class QuestionPatch(Schema):
    key: str | None = Field(default=None, max_length=40)
    label: str | None = Field(default=None, max_length=200)
    kind: QualificationQuestion.Kind | None = None
    choices: list[str] | None = None
    required_to_qualify: bool | None = None
    active: bool | None = None


class QuestionOut(Schema):
    id: int
    key: str
    label: str
    kind: str
    choices: list[str]
    required_to_qualify: bool
    active: bool
    position: int
    updated_at: dt.datetime


class OrderIn(Schema):
    keys: list[str] = Field(description="Every question's key once, in the new order.")


def _question(request: HttpRequest, question_id: int) -> QualificationQuestion:
    if request.membership.role not in LEAD_ADMINS:
        raise NotFound("Not found.")
    return get_object_or_404(QualificationQuestion.objects.visible_to(request.membership), pk=question_id)


@router.get(
    "/qualification-questions",
    response=list[QuestionOut],
    summary="The tenant's qualification questions, in form order (everyone who sees leads)",
)
def question_list(request: HttpRequest, active: bool | None = None):
    rows = QualificationQuestion.objects.visible_to(request.membership).order_by("position", "id")
    if active is not None:
        rows = rows.filter(active=active)
    return list(rows)


@router.post("/qualification-questions", response={201: QuestionOut}, summary="Add a question (admins, managers)")
def question_create(request: HttpRequest, payload: QuestionIn):
    return Status(201, questions.question_create(by=request.membership, data=payload.model_dump()))


@router.put("/qualification-questions/order", response=list[QuestionOut], summary="Set the order of all questions")
def question_order(request: HttpRequest, payload: OrderIn):
    return questions.question_reorder(by=request.membership, keys=payload.keys)


@router.get("/qualification-questions/{question_id}", response=QuestionOut)
def question_detail(request: HttpRequest, question_id: int):
    return get_object_or_404(QualificationQuestion.objects.visible_to(request.membership), pk=question_id)


@router.patch(
    "/qualification-questions/{question_id}",
    response=QuestionOut,
    summary="Change a question; key and answer type are fixed once leads have answered it",
)
def question_update(request: HttpRequest, question_id: int, payload: QuestionPatch):
    question = _question(request, question_id)
    data = payload.model_dump(exclude_unset=True)
    return questions.question_update(question=question, by=request.membership, data=data)


@router.delete(
    "/qualification-questions/{question_id}",
    response=QuestionOut,
    summary="Retire a question (its answers stay on the leads; PATCH active=true brings it back)",
)
def question_retire(request: HttpRequest, question_id: int):
    question = _question(request, question_id)
    return questions.question_active_set(question=question, by=request.membership, active=False)
