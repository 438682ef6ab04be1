"""Details of the marketing-database screens found in a browser walk-through: confirmations before deleting,
readable timelines, kept list filters, plural messages, what a create of a known person did not take over,
merges that stay findable, German number formats."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import PersonFactory

from leadwerk.contacts import merge, services
from leadwerk.contacts.models import AttributeDefinition, Organization, Person
from leadwerk.core.exceptions import ValidationFailed

pytestmark = pytest.mark.django_db


def _english(member):
    member.user.language = "en"
    member.user.save(update_fields=["language"])
    return member


def _german(member):
    member.user.language = "de"
    member.user.save(update_fields=["language"])
    return member


def _url(member, name, *args):
    return reverse(name, args=[member.tenant.slug, *args])


def _panel(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</details>", start)]


def test_deleting_an_organisation_or_an_attribute_asks_first(client, marketing, admin):
    org = Organization.objects.create(tenant=marketing.tenant, name="Acme GmbH", name_key="acme gmbh")
    page = login(client, _english(marketing)).get(_url(marketing, "contacts:organization_detail", org.pk)).text
    panel = _panel(page, "organization-delete")
    assert "Its people stay in the marketing database" in panel and ">Delete the organisation</button>" in panel
    assert "<details" in page[page.rindex("<details", 0, page.index('data-testid="organization-delete"')) :]
    assert Organization.objects.filter(pk=org.pk).exists()  # showing the page deleted nothing

    services.attribute_define(by=admin, record_type="person", key="fleet", label="Fleet size", type="number")
    page = login(client, _english(admin)).get(_url(admin, "contacts:attribute_list")).text
    panel = _panel(page, "attribute-delete")
    assert "“Fleet size” disappears from forms" in panel and ">Remove the attribute</button>" in panel


def test_a_taken_attribute_key_is_a_plain_field_error(admin):
    services.attribute_define(by=admin, record_type="person", key="fleet", label="Fleet size", type="number")
    with pytest.raises(ValidationFailed) as caught:
        services.attribute_define(by=admin, record_type="person", key="Fleet", label="Fleet", type="text")
    assert caught.value.field == "key"
    assert caught.value.message == "An attribute with this key already exists for “Person”."
    # The same key on organisations is another field.
    services.attribute_define(by=admin, record_type="organization", key="fleet", label="Fleet", type="number")
    assert AttributeDefinition.objects.filter(key="fleet").count() == 2


def test_a_year_of_birth_in_the_future_is_refused_and_shown_without_a_separator(client, marketing):
    with pytest.raises(ValidationFailed) as caught:
        services.person_create(by=marketing, data={"last_name": "Zukunft", "birth_year": 2090})
    assert caught.value.field == "birth_year" and not Person.objects.exists()

    person = services.person_create(by=marketing, data={"last_name": "Berg", "birth_year": 1980}).person
    page = login(client, _german(marketing)).get(_url(marketing, "contacts:person_detail", person.pk)).text
    assert "<dd>1980</dd>" in page and "1.980" not in page


def test_the_timeline_names_fields_and_values_as_the_forms_do(client, marketing):
    person = services.person_create(by=marketing, data={"last_name": "Berg", "position": "Tester"}).person
    services.person_update(person=person, by=marketing, data={"position": "Chef", "email": "berg(at)example"})
    page = login(client, _german(marketing)).get(_url(marketing, "contacts:person_detail", person.pk)).text
    timeline = page[page.index("<h2>Chronik</h2>") :]
    assert "Position: Tester → Chef" in timeline
    assert "E-Mail-Adresse ist ungültig" in timeline
    assert "quality_flags" not in timeline and "email_invalid" not in timeline
    assert "update" not in timeline and ": geändert" in timeline


def test_bulk_actions_return_to_the_filtered_list(client, marketing):
    PersonFactory(tenant=marketing.tenant, last_name="Becker", last_name_key="becker", city="Berlin")
    login(client, _english(marketing))
    data = {"action": "tag", "scope": "filter", "q": "Berlin", "sort": "newest", "tag_name": "Nord"}
    response = client.post(_url(marketing, "contacts:person_bulk"), data)
    assert response.status_code == 302
    assert response.url == _url(marketing, "contacts:person_list") + "?q=Berlin&sort=newest"
    followed = client.get(response.url)
    assert "Tag added to 1 person." in [str(m) for m in followed.context["messages"]]


def test_creating_a_known_person_says_which_values_were_not_taken_over(client, marketing):
    known = services.person_create(
        by=marketing, data={"last_name": "Berg", "email": "anna@example.de", "phone": "030 1234567"}
    ).person
    login(client, _english(marketing))
    response = client.post(
        _url(marketing, "contacts:person_create"),
        {"last_name": "Berg", "email": "ANNA@example.de", "phone": "0171 1234567", "city": "Köln", "country": "DE"},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert "This person already existed; the record was completed with your input." in texts
    assert any("Phone: kept “+49301234567”, not “+491711234567”" in text for text in texts)
    known.refresh_from_db()
    assert (known.phone, known.city) == ("+49301234567", "Köln")


def test_a_merge_stays_findable_and_the_old_link_leads_to_the_kept_record(client, marketing):
    survivor = services.person_create(by=marketing, data={"first_name": "Roland", "last_name": "Ackermann"}).person
    other = services.person_create(by=marketing, data={"first_name": "Roland", "last_name": "Ackerman"}).person
    done = merge.person_merge(by=marketing, survivor=survivor, other=other, choices={"last_name": "survivor"})
    login(client, _english(marketing))
    page = client.get(_url(marketing, "contacts:person_detail", survivor.pk)).text
    note = page[page.index('data-testid="merge-note"') :]
    assert "Roland Ackerman was merged into this record" in note
    assert _url(marketing, "contacts:duplicate_merge_detail", done.pk) in note

    response = client.get(_url(marketing, "contacts:person_detail", other.pk))
    assert response.status_code == 302 and response.url == _url(marketing, "contacts:person_detail", survivor.pk)
    merge.merge_undo(by=marketing, merge=done)
    assert client.get(_url(marketing, "contacts:person_detail", other.pk)).status_code == 200
    assert 'data-testid="merge-note"' not in client.get(_url(marketing, "contacts:person_detail", survivor.pk)).text


def test_an_old_link_of_a_merged_record_is_404_for_another_tenant(client, marketing, outsider):
    survivor = services.person_create(by=marketing, data={"last_name": "Ackermann"}).person
    other = services.person_create(by=marketing, data={"last_name": "Ackerman"}).person
    merge.person_merge(by=marketing, survivor=survivor, other=other, choices={})
    login(client, outsider)
    url = reverse("contacts:person_detail", args=[outsider.tenant.slug, other.pk])
    assert client.get(url).status_code == 404


def test_german_pages_keep_numbers_in_number_fields_and_translate_djangos_empty_choice(client, admin):
    page = login(client, _german(admin)).get(_url(admin, "contacts:duplicate_list")).text
    assert 'name="threshold" type="number"' in page and 'value="0.95"' in page
    form = client.get(_url(admin, "contacts:person_create")).text
    assert "- Select an option -" not in form and "- Bitte auswählen -" in form


def test_the_people_export_speaks_the_users_language_with_every_channel(client, marketing):
    import csv
    import io

    services.person_create(by=marketing, data={"last_name": "Berg", "salutation": "ms", "email": "b@example.de"})
    response = login(client, _german(marketing)).get(_url(marketing, "contacts:person_export"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text), delimiter=";"))
    record = dict(zip(header, row, strict=True))
    assert record["Anrede"] == "Frau"
    consent = {h: v for h, v in record.items() if h.startswith("Einwilligung")}
    assert len(consent) == 4 and set(consent.values()) == {"unbekannt"}


def test_a_consent_form_with_errors_comes_back_filled_in_and_records_nothing(client, marketing):
    person = services.person_create(by=marketing, data={"last_name": "Berg"}).person
    login(client, _english(marketing))
    data = {"channel": "phone", "status": "granted", "source": "agent", "proof_form": "Anruf", "note": "x" * 400}
    response = client.post(_url(marketing, "contacts:person_consent", person.pk), data)
    page = response.content.decode()
    assert response.status_code == 422
    assert "Ensure this value has at most 300 characters" in page  # at the field, not a generic message
    assert 'value="Anruf"' in page and 'class="inline-form" open' in page
    person.refresh_from_db()
    assert person.consent_phone == "unknown" and not person.consents.exists()


def test_the_list_filters_by_consent_status_on_a_channel_or_on_any(client, marketing):
    tenant = marketing.tenant
    PersonFactory(tenant=tenant, last_name="Adler", last_name_key="adler", consent_email="granted")
    PersonFactory(tenant=tenant, last_name="Berger", last_name_key="berger", consent_phone="withdrawn")
    PersonFactory(tenant=tenant, last_name="Dorn", last_name_key="dorn")
    login(client, _english(marketing))

    def names(**query):
        response = client.get(_url(marketing, "contacts:person_list"), query)
        return [p.last_name for p in response.context["page"].items]

    assert names(consent_status="withdrawn") == ["Berger"]
    assert names(consent_status="granted") == ["Adler"]
    assert names(consent="phone", consent_status="withdrawn") == ["Berger"]
    assert names(consent="email", consent_status="withdrawn") == []
    page = client.get(_url(marketing, "contacts:person_list")).content.decode()
    assert '<option value="withdrawn" >Consent: withdrawn</option>' in page or ">Consent: withdrawn</option>" in page


def test_blocking_a_person_lists_their_contacts_and_keeps_them_blocked(client, marketing):
    from leadwerk.contacts.models import Suppression

    data = {"last_name": "Berg", "email": "anna@example.de", "phone": "030 1234567", "mobile": "kaputt"}
    person = services.person_create(by=marketing, data=data).person
    login(client, _english(marketing))
    page = client.get(_url(marketing, "contacts:person_detail", person.pk)).content.decode()
    assert 'data-testid="suppress"' in page
    response = client.post(_url(marketing, "contacts:person_suppress", person.pk), {"reason": "objection"}, follow=True)
    assert "Blocked for marketing; 2 addresses and numbers are on the suppression list." in response.content.decode()
    person.refresh_from_db()
    assert person.suppressed_reason == "objection"
    assert sorted(Suppression.objects.values_list("kind", flat=True)) == ["email", "phone"]  # not the unreadable one
    # The same address typed again finds the blocked person; a new record with the blocked number is blocked at once.
    again = services.person_create(by=marketing, data={"last_name": "Neu", "email": "ANNA@example.de "}).person
    assert again.pk == person.pk and again.suppressed_reason == "objection"
    other = services.person_create(by=marketing, data={"last_name": "Zweit", "phone": "+49 30 1234567"}).person
    assert other.suppressed_reason == "objection"


def test_blocking_needs_a_reason_and_the_role(client, marketing, manager, outsider):
    person = services.person_create(by=marketing, data={"last_name": "Berg", "email": "anna@example.de"}).person
    login(client, _english(marketing))
    response = client.post(_url(marketing, "contacts:person_suppress", person.pk), {"reason": ""})
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert 'data-testid="suppress" open' in response.content.decode()
    person.refresh_from_db()
    assert person.suppressed_reason == ""
    # A manager reads the marketing database but does not handle suppressions; another tenant does not see it.
    assert (
        login(client, manager)
        .post(_url(manager, "contacts:person_suppress", person.pk), {"reason": "objection"})
        .status_code
        == 404
    )
    url = reverse("contacts:person_suppress", args=[outsider.tenant.slug, person.pk])
    assert login(client, outsider).post(url, {"reason": "objection"}).status_code == 404
    person.refresh_from_db()
    assert person.suppressed_reason == ""


def test_the_person_page_names_the_language_and_links_only_readable_contacts(client, marketing):
    data = {
        "last_name": "Berg",
        "email": "berg(at)example",
        "phone": "030 1234567",
        "mobile": "kaputt",
        "language": "tr",
    }
    person = services.person_create(by=marketing, data=data).person
    page = login(client, _english(marketing)).get(_url(marketing, "contacts:person_detail", person.pk)).content.decode()
    assert "<dd>Turkish</dd>" in page
    assert 'href="mailto:berg(at)example"' not in page and "berg(at)example" in page
    assert 'href="tel:+49301234567"' in page and 'href="tel:kaputt"' not in page
    services.person_update(person=person, by=marketing, data={"language": "de"})
    page = login(client, _german(marketing)).get(_url(marketing, "contacts:person_detail", person.pk)).content.decode()
    timeline = page[page.index("<h2>Chronik</h2>") :]
    assert "Sprache: Türkisch → Deutsch" in timeline
    assert "Einwilligung SMS" in timeline and "consent_sms" not in timeline  # the create entry's fields, by label


def test_an_unticked_box_is_no_value_that_was_not_taken_over(client, marketing):
    org = Organization.objects.create(tenant=marketing.tenant, name="Acme GmbH", name_key="acme gmbh")
    data = {"last_name": "Berg", "email": "anna@example.de", "organization": org, "use_organization_address": True}
    services.person_create(by=marketing, data=data)
    login(client, _english(marketing))
    response = client.post(
        _url(marketing, "contacts:person_create"),
        {"last_name": "Berg", "email": "anna@example.de", "country": "DE"},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert "This person already existed; the record was completed with your input." in texts
    assert not any("already had other values" in text for text in texts)
