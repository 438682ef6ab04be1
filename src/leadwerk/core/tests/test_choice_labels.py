"""``get_FOO_display()`` on tenant models: from a per-language table instead of Django's per-call dict."""

from django.utils import translation

from leadwerk.leads.models import Channel, Lead, Status


def test_labels_follow_the_active_language():
    lead = Lead(status=Status.LOST, channel=Channel.EVENT)
    with translation.override("en"):
        assert lead.get_status_display() == "Lost"
        assert lead.get_channel_display() == "Trade fair / event"
    with translation.override("de"):
        assert lead.get_status_display() == "Verloren"
        assert lead.get_channel_display() == "Messe / Veranstaltung"
    with translation.override("en"):  # the German table did not replace the English one
        assert lead.get_status_display() == "Lost"


def test_a_value_outside_the_choices_shows_as_it_is():
    lead = Lead(status="archived", rating="")
    assert lead.get_status_display() == "archived"
    assert lead.get_rating_display() == ""
