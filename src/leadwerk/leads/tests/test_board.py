"""Pipeline board: columns and counts, filters, "more" per column, moves (allowed, refused, needing input), walls."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import login
from django.urls import reverse
from django.utils import timezone
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import board_views, services, states
from leadwerk.leads.models import InterestCategory, Lead, LeadEvent, LeadReason


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


def capture(by, last_name, interest=None, **lead):
    person = {"last_name": last_name, "email": f"{last_name.lower()}@example.de"}
    return services.lead_capture(by=by, person=person, lead={"interest": interest, **lead}).lead


@pytest.fixture
def board(manager, interest, tenant):
    """Two new leads (scores 10 and 80), one accepted, one lost yesterday, one lost long ago."""
    low, high = capture(manager, "Wagner", interest), capture(manager, "Becker", interest)
    Lead.objects.filter(pk=low.pk).update(score=10, grade="D")
    Lead.objects.filter(pk=high.pk).update(score=80, grade="A")
    accepted = capture(manager, "Keller", interest)
    services.lead_transition(lead=accepted, by=manager, to="accepted")
    reason = LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis zu hoch")
    lost = capture(manager, "Lange")
    services.lead_transition(lead=lost, by=manager, to="accepted")
    services.lead_transition(lead=lost, by=manager, to="lost", reason=reason)
    old = capture(manager, "Alt")
    services.lead_transition(lead=old, by=manager, to="accepted")
    services.lead_transition(lead=old, by=manager, to="lost", reason=reason)
    Lead.objects.filter(pk=old.pk).update(closed_at=timezone.now() - dt.timedelta(days=90))
    return {"low": low, "high": high, "accepted": accepted, "lost": lost, "old": old, "reason": reason}


def url(tenant, name="lead_board", **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


def column(response, status):
    return next(c for c in response.context["columns"] if c["status"] == status)


def test_columns_in_board_order_with_counts_and_best_score_first(client, tenant, manager, board):
    response = login(client, manager).get(url(tenant))
    assert response.status_code == 200
    assert [c["status"] for c in response.context["columns"]] == list(states.BOARD)
    assert column(response, "new")["count"] == 2
    assert [lead.pk for lead in column(response, "new")["page"].items] == [board["high"].pk, board["low"].pk]
    assert column(response, "accepted")["count"] == 1
    # Lost shows the last 30 days only.
    assert column(response, "lost")["count"] == 1
    assert [lead.pk for lead in column(response, "lost")["page"].items] == [board["lost"].pk]
    html = response.content.decode()
    assert 'data-testid="column-in_progress"' in html and "Becker" in html and "Alt" not in html


def test_board_queries_stay_flat(client, tenant, manager, board, django_assert_max_num_queries):
    login(client, manager)
    client.get(url(tenant))
    # session, user, membership, the nine counts in one statement, a page per non-empty column, interests
    with django_assert_max_num_queries(10):
        client.get(url(tenant))


def test_filters_view_interest_grade(client, tenant, manager, board, interest):
    login(client, manager)
    assert column(client.get(url(tenant), {"grade": "A"}), "new")["count"] == 1
    assert column(client.get(url(tenant), {"interest": "e-suv"}), "lost")["count"] == 0
    mine = client.get(url(tenant), {"view": "mine"})  # the leads the manager took on by accepting them
    assert sum(c["count"] for c in mine.context["columns"]) == 2  # the lead lost long ago is off the board
    newcomer = MembershipFactory(tenant=tenant, role=Role.MANAGER)
    mine = login(client, newcomer).get(url(tenant), {"view": "mine"})
    assert all(c["count"] == 0 for c in mine.context["columns"])
    assert "Leads assigned to you appear here." in mine.content.decode()


def test_more_link_pages_one_column(client, tenant, manager, interest, monkeypatch):
    monkeypatch.setattr(board_views, "CARDS", 2)
    leads = [capture(manager, f"Name{i}", interest) for i in range(5)]
    for i, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(score=i * 10)
    login(client, manager)
    first = column(client.get(url(tenant)), "new")["page"]
    assert [lead.score for lead in first.items] == [40, 30] and first.next_cursor
    more = client.get(url(tenant), {"column": "new", "cursor": first.next_cursor}, headers={"HX-Request": "true"})
    html = more.content.decode()
    assert "Name2" in html and "Name1" in html and "Name4" not in html and "<html" not in html


def test_sales_user_sees_only_own_and_team_leads(client, tenant, manager, board):
    seller = MembershipFactory(tenant=tenant, role=Role.SALES)
    services.lead_assign(lead=board["high"], by=manager, owner=seller)
    response = login(client, seller).get(url(tenant))
    assert response.context["filters"]["view"] == "mine"
    assert sum(c["count"] for c in response.context["columns"]) == 1
    assert column(response, "routed")["page"].items[0].pk == board["high"].pk


def test_drag_to_an_allowed_column_moves_the_lead(client, tenant, manager, board):
    login(client, manager)
    lead = board["high"]
    response = client.post(
        url(tenant, "board_move", pk=lead.pk), {"to": "qualifying", "version": lead.version}, headers={"X-Board": "1"}
    )
    assert response.status_code == 200
    assert "Becker moved to Qualifying." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "qualifying"
    assert LeadEvent.objects.filter(lead=lead, kind="status", after__status="qualifying").count() == 1
    assert column(response, "qualifying")["count"] == 1


def test_forbidden_move_snaps_back_with_the_state_machines_message(client, tenant, manager, board):
    login(client, manager)
    lead = board["high"]
    response = client.post(
        url(tenant, "board_move", pk=lead.pk), {"to": "won", "version": lead.version}, headers={"X-Board": "1"}
    )
    assert response.status_code == 422
    assert "A lead that is New cannot become Won." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "new"
    assert column(response, "new")["count"] == 2


def test_move_needing_a_reason_opens_the_dialog_first(client, tenant, manager, board):
    login(client, manager)
    lead = board["accepted"]
    move = url(tenant, "board_move", pk=lead.pk)
    dialog = client.get(move, {"to": "lost"}, headers={"X-Board": "1"})
    html = dialog.content.decode()
    assert dialog["X-Board-Dialog"] == "1" and "<dialog" in html and 'name="reason"' in html and "Preis zu hoch" in html
    missing = client.post(move, {"to": "lost", "version": lead.version}, headers={"X-Board": "1"})
    assert missing.status_code == 422 and missing["X-Board-Dialog"] == "1"
    assert "Choose a reason." in missing.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "accepted"
    done = client.post(
        move, {"to": "lost", "reason": board["reason"].pk, "version": lead.version}, headers={"X-Board": "1"}
    )
    assert done.status_code == 200 and Lead.objects.get(pk=lead.pk).lost_reason == board["reason"]


def test_a_move_the_state_machine_refuses_is_refused_before_the_dialog(client, tenant, manager, board):
    lead = board["low"]  # new: it cannot become lost, so there is no reason to ask for
    login(client, manager)
    answer = client.get(url(tenant, "board_move", pk=lead.pk), {"to": "lost"}, headers={"X-Board": "1"})
    html = answer.content.decode()
    assert answer.status_code == 422 and "X-Board-Dialog" not in answer
    assert "<dialog" not in html and 'id="board"' in html
    assert "A lead that is New cannot become Lost." in html
    # Without script (the menu's link): back to the board with the message.
    page = client.get(url(tenant, "board_move", pk=lead.pk), {"to": "lost"}, follow=True)
    assert "A lead that is New cannot become Lost." in page.content.decode()
    lead.refresh_from_db()
    assert lead.status == "new"


def test_nurture_needs_a_future_date_and_won_takes_a_value(client, tenant, manager, board):
    login(client, manager)
    lead = board["accepted"]
    move = url(tenant, "board_move", pk=lead.pk)
    past = client.post(move, {"to": "nurture", "version": lead.version, "recontact_on": "2020-01-01"})
    assert past.status_code == 422 and "The re-contact date must lie in the future." in past.content.decode()
    response = client.post(move, {"to": "won", "version": lead.version, "won_value": "12500"})
    assert response.status_code == 302  # without the board script: back to the board with a message
    assert str(Lead.objects.get(pk=lead.pk).won_value) == "12500.00"


def test_stale_card_is_refused_with_who_changed_it(client, tenant, manager, admin, board):
    lead = board["high"]
    seen = lead.version  # the version on the manager's card
    services.lead_update(lead=lead, by=admin, data={"title": "Neu"})
    response = login(client, manager).post(
        url(tenant, "board_move", pk=lead.pk), {"to": "qualifying", "version": seen}, headers={"X-Board": "1"}
    )
    assert response.status_code == 422 and "after you opened it" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_keyboard_menu_lists_the_allowed_moves(client, tenant, manager, board):
    html = login(client, manager).get(url(tenant)).content.decode()
    # One menu per column (board.js copies it into a card's menu with the card's move URL and version) ...
    new_menu = html.split('<template id="menu-new"')[1].split("</template>")[0]
    assert 'name="to" value="qualifying"' in new_menu and 'value="won"' not in new_menu
    accepted_menu = html.split('<template id="menu-accepted"')[1].split("</template>")[0]
    assert 'data-to="lost"' in accepted_menu and 'name="to" value="lost"' not in accepted_menu  # needs a dialog
    # ... and each card carries where its moves go; without script its menu leads to the lead page.
    lead = board["accepted"]
    assert f'data-move-url="/{tenant.slug}/leads/board/{lead.pk}/move/"' in html
    assert "Move to…" in html
    assert f'<a href="/{tenant.slug}/leads/{lead.pk}/">Change the status on the lead page' in html


def test_marketing_reads_the_board_but_cannot_move(client, tenant, marketing, board):
    login(client, marketing)
    html = client.get(url(tenant)).content.decode()
    assert "Becker" in html and 'draggable="true"' not in html and "Move to…" not in html
    lead = board["high"]
    response = client.post(url(tenant, "board_move", pk=lead.pk), {"to": "qualifying", "version": lead.version})
    assert response.status_code == 404 and Lead.objects.get(pk=lead.pk).status == "new"


def test_other_tenant_and_unprivileged_roles_get_404(client, tenant, outsider, partner_user, board):
    lead = board["high"]
    login(client, outsider)
    assert client.get(url(tenant)).status_code == 404
    assert client.post(url(tenant, "board_move", pk=lead.pk), {"to": "qualifying"}).status_code == 404
    own = reverse("leads:board_move", kwargs={"tenant": outsider.tenant.slug, "pk": lead.pk})
    assert client.post(own, {"to": "qualifying", "version": 1}).status_code == 404
    login(client, partner_user)
    assert client.get(url(tenant)).status_code == 404
    seller = MembershipFactory(tenant=tenant, role=Role.SALES)
    login(client, seller)
    assert client.post(url(tenant, "board_move", pk=lead.pk), {"to": "qualifying", "version": 1}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_cards_show_the_sla_badge_of_open_deadlines(client, tenant, manager, board):
    Lead.objects.filter(pk=board["high"].pk).update(
        sla_due_at=timezone.now() - dt.timedelta(hours=2), sla_first_contact_due=timezone.now() - dt.timedelta(hours=2)
    )
    html = login(client, manager).get(url(tenant)).content.decode()
    card = html[html.index(f'id="card-{board["high"].pk}"') :][:3000]
    assert "overdue by" in card


def test_a_long_column_counts_up_to_the_cap(client, tenant, manager, board, monkeypatch):
    from leadwerk.leads import board_views

    monkeypatch.setattr(board_views, "COUNT_CAP", 1)
    response = login(client, manager).get(url(tenant))
    new = column(response, "new")
    assert (new["count"], new["more_than"]) == (1, True)  # two new leads: "1+"
    assert (column(response, "accepted")["count"], column(response, "accepted")["more_than"]) == (1, False)
    html = response.content.decode()
    assert 'data-testid="count-new" title="More than 1 leads">1+</span>' in html
    assert 'data-testid="count-accepted">1</span>' in html
