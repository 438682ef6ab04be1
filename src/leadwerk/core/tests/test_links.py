import pytest
from django.urls import reverse

from leadwerk.core.links import pk_url


@pytest.mark.parametrize("pk", [1, 42, 1_000_000])
def test_pk_url_is_what_reverse_gives(pk):
    link = pk_url("leads:lead_detail", tenant="nordstern")
    assert link(pk) == reverse("leads:lead_detail", kwargs={"tenant": "nordstern", "pk": pk})


def test_pk_url_refuses_what_is_no_number():
    link = pk_url("leads:board_move", tenant="nordstern")
    assert link("7") == reverse("leads:board_move", kwargs={"tenant": "nordstern", "pk": 7})
    with pytest.raises(ValueError):
        link("7/../admin")
