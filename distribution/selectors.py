from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from core import handles
from core.models import ActivityLog, HandleKind
from distribution.models import (
    Contact,
    ContactImport,
    ContactImportError,
    Invitation,
    InvitationEvent,
    KioskDevice,
    Segment,
    kiosk_token_hash,
)
from distribution.normalize import check_attribute_name, normalize_email, normalize_phone
from distribution.rules import attribute_equals, rules_filter
from surveys.models import Response
from surveys.selectors import response_list
from tenancy.scoping import unscoped


def contact_list(
    *,
    organization,
    search: str = "",
    email: str = "",
    phone: str = "",
    external_id: str = "",
    attributes: dict[str, str] | None = None,
    segment: Segment | None = None,
) -> QuerySet[Contact]:
    """Contacts newest first, filtered; raises ApplicationError for a malformed filter value.

    Email and phone are normalised the way they are stored, so `040 123 4567` finds
    `+358401234567`.
    """
    return contacts_filter(
        Contact.objects.filter(organization=organization),
        search=search,
        email=email,
        phone=phone,
        external_id=external_id,
        attributes=attributes,
        segment=segment,
    )


def contacts_filter(
    contacts: QuerySet[Contact],
    *,
    search: str = "",
    email: str = "",
    phone: str = "",
    external_id: str = "",
    attributes: dict[str, str] | None = None,
    segment: Segment | None = None,
) -> QuerySet[Contact]:
    """`contacts` narrowed by the contact list's filters (see contact_list)."""
    if search := search.strip():
        contacts = contacts.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(phone__contains=search.replace(" ", ""))
            | Q(external_id=search)
        )
    if email:
        contacts = contacts.filter(email=normalize_email(email))
    if phone:
        contacts = contacts.filter(phone=normalize_phone(phone))
    if external_id:
        contacts = contacts.filter(external_id=external_id)
    for name, value in (attributes or {}).items():
        check_attribute_name(name)
        contacts = contacts.filter(attribute_equals(name, value))
    if segment is not None:
        contacts = contacts.filter(rules_filter(segment.rules))
    return contacts


def access_contact(*, organization, public_id: str) -> Contact:
    contact = Contact.objects.filter(organization=organization, public_id=public_id).first()
    if contact is None:
        raise Http404
    return contact


def contact_activity(*, organization, contact: Contact, limit: int = 50) -> list[ActivityLog]:
    """The audit trail of one contact, newest first."""
    return list(
        ActivityLog.objects.filter(organization=organization, object_id=contact.public_id)[:limit]
    )


def contact_invitations(*, organization, contact: Contact) -> QuerySet[Invitation]:
    """The contact's invitations newest first, with survey, campaign and status history loaded:
    any number of rows (or a slice of them) costs two queries."""
    return (
        Invitation.objects.filter(organization=organization, contact=contact)
        .select_related("survey", "campaign", "touchpoint")
        .prefetch_related(
            Prefetch("events", queryset=InvitationEvent.objects.filter(organization=organization))
        )
        .order_by("-created_at", "-id")
    )


def contact_responses(*, organization, contact: Contact) -> QuerySet[Response]:
    """The contact's responses newest first, with survey, touchpoint and answers (with their
    questions) loaded: two queries for any number of rows.

    A response belongs to a contact only through the personal link of one of their invitations
    (response -> personal link -> invitation -> contact); a response has no contact field, so
    once `contact_erase` has unlinked the invitations it finds nothing.
    """
    return response_list(organization=organization).filter(
        personal_link__invitation__organization=organization,
        personal_link__invitation__contact=contact,
    )


def attribute_names(*, organization, limit: int = 100) -> list[str]:
    """Attribute names in use (for filter choices), from the newest 1,000 contacts."""
    names: set[str] = set()
    recent = Contact.objects.filter(organization=organization).values_list("attributes", flat=True)[
        :1000
    ]
    for attributes in recent:
        names.update(attributes or {})
    return sorted(names)[:limit]


def segment_list(*, organization) -> QuerySet[Segment]:
    return Segment.objects.filter(organization=organization)


def access_segment(*, organization, public_id: str) -> Segment:
    segment = segment_list(organization=organization).filter(public_id=public_id).first()
    if segment is None:
        raise Http404
    return segment


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    """The segment's contacts as one queryset (campaign audiences build on it)."""
    return Contact.objects.filter(organization_id=segment.organization_id).filter(
        rules_filter(segment.rules)
    )


def contact_import_list(*, organization) -> QuerySet[ContactImport]:
    return ContactImport.objects.filter(organization=organization).defer("content")


def access_contact_import(
    *, organization, public_id: str, with_content: bool = False
) -> ContactImport:
    imports = ContactImport.objects.filter(organization=organization, public_id=public_id)
    if not with_content:
        imports = imports.defer("content")
    contact_import = imports.select_related("created_by").first()
    if contact_import is None:
        raise Http404
    return contact_import


def contact_import_errors(*, organization, contact_import: ContactImport) -> QuerySet:
    return ContactImportError.objects.filter(
        organization=organization, contact_import=contact_import
    )


# --- kiosk devices -----------------------------------------------------------------------------


def kiosk_device_list(*, organization, survey=None) -> QuerySet[KioskDevice]:
    devices = KioskDevice.objects.filter(organization=organization).select_related(
        "survey", "touchpoint"
    )
    if survey is not None:
        devices = devices.filter(survey=survey)
    return devices


def access_kiosk_device(*, organization, public_id: str) -> KioskDevice:
    device = kiosk_device_list(organization=organization).filter(public_id=public_id).first()
    if device is None:
        raise Http404
    return device


def kiosk_device_for_token(token: str) -> KioskDevice | None:
    """The device a kiosk URL's token opens (revoked ones too: the page says so), found through
    the handle directory before the organization is known."""
    handle = handles.resolve(HandleKind.KIOSK, kiosk_token_hash(token))
    if handle is None:
        return None
    with unscoped():
        return (
            KioskDevice.all_objects.select_related(
                "organization", "survey__current_version", "touchpoint"
            )
            .filter(organization_id=handle.organization_id, pk=handle.object_id)
            .first()
        )
