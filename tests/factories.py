from __future__ import annotations

import factory

from leadwerk.accounts.models import Membership, Team, Tenant, User
from leadwerk.accounts.roles import Role


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    locale = "de"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name", locale="de_DE")
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.SALES


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "contacts.Organization"

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Faker("company", locale="de_DE")
    name_key = factory.LazyAttribute(lambda o: o.name.lower())
    postcode = "10115"
    city = "Berlin"


class PersonFactory(factory.django.DjangoModelFactory):
    """Raw rows for fixtures; tests of behaviour create people through the services."""

    class Meta:
        model = "contacts.Person"

    tenant = factory.SubFactory(TenantFactory)
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")
    last_name_key = factory.LazyAttribute(lambda p: p.last_name.lower())
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    postcode = "10115"
    city = "Berlin"
