"""factory_boy factories shared by every test module."""

import factory

from accounts.models import ApiKey, User
from tenancy.enums import Role
from tenancy.models import Membership, Organization

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.all_objects.create(*args, **kwargs)


def make_api_key(
    organization: Organization, scope: str = "read", name: str = "test key"
) -> tuple[ApiKey, str]:
    full_key, prefix, secret_hash = ApiKey.generate()
    api_key = ApiKey.all_objects.create(
        organization=organization, name=name, scope=scope, prefix=prefix, secret_hash=secret_hash
    )
    return api_key, full_key
