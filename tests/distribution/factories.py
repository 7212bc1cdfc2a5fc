"""factory_boy factories of the distribution app."""

import factory

from distribution.models import Contact, Segment


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.fi")
    preferred_language = "fi"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.all_objects.create(*args, **kwargs)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    rules = factory.LazyFunction(list)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.all_objects.create(*args, **kwargs)


def reachable_contact(organization, *, email: str = "", phone: str = "", **extra) -> Contact:
    """A contact who has consented to the channels they have an address for."""
    from django.utils import timezone

    now = timezone.now()
    return ContactFactory(
        organization=organization,
        email=email,
        phone=phone,
        email_consent=bool(email),
        email_consent_at=now if email else None,
        sms_consent=bool(phone),
        sms_consent_at=now if phone else None,
        **extra,
    )
