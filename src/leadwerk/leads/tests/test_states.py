"""The state machine in one table: what may follow what, and the messages for what may not."""

from __future__ import annotations

import itertools

import pytest

from leadwerk.core.exceptions import ValidationFailed
from leadwerk.leads import states
from leadwerk.leads.states import Status


def test_every_status_has_a_row_and_targets_are_statuses():
    assert set(states.TRANSITIONS) == set(Status.values)
    for targets in states.TRANSITIONS.values():
        assert targets <= set(Status.values)


def test_closed_statuses_are_terminal_and_everything_open_can_be_left():
    for status in states.CLOSED:
        assert states.allowed(status) == frozenset()
    for status in states.OPEN:
        assert states.allowed(status), status


def test_every_open_lead_can_reach_an_outcome():
    # Breadth-first from each open status: won, lost or disqualified must be reachable.
    for start in states.OPEN:
        seen, frontier = {start}, [start]
        while frontier:
            frontier = [t for s in frontier for t in states.allowed(s) if t not in seen]
            seen.update(frontier)
        assert seen & states.CLOSED, start


def test_the_documented_main_path_is_allowed():
    path = ["new", "qualifying", "qualified", "routed", "accepted", "in_progress", "won"]
    for current, target in itertools.pairwise(path):
        states.check(current, target)
    states.check("routed", "rejected")
    states.check("rejected", "routed")


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        ("won", "in_progress", "It is closed."),
        ("new", "won", "Possible next:"),
        ("routed", "lost", "cannot become Lost"),
        ("new", "new", "already New"),
        ("new", "bogus", "Unknown status."),
    ],
)
def test_forbidden_transitions_explain_themselves(current, target, message):
    with pytest.raises(ValidationFailed) as caught:
        states.check(current, target)
    assert message in caught.value.message
    assert caught.value.field == "status"
