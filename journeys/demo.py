"""Demo data: two retail journeys with touchpoints, owners and measurement plans.

`load_demo_journeys` is called by accounts' `load_demo` command for the demo organization.
"""

from datetime import date
from decimal import Decimal

from journeys import services
from journeys.enums import Channel, KpiKind, Metric
from journeys.models import Journey
from tenancy.scoping import tenant_scope

BASELINE_DATE = date(2025, 12, 31)
TARGET_DATE = date(2026, 12, 31)

OP, TAC = KpiKind.OPERATIONAL, KpiKind.TACTICAL

# Stage name -> [(touchpoint, channel, key?, owner key, external ref, description, plans)]
WEB_SHOP = {
    "Awareness": [
        ("Social media ad", Channel.WEB, False, "cx", "", "Campaign ads on social media.", []),
        ("Newsletter", Channel.EMAIL, False, "cx", "newsletter", "Monthly offers by email.",
         [(Metric.YES_NO, OP, "62", "70")]),
    ],
    "Consideration": [
        ("Product page", Channel.WEB, True, "cx", "/products/*", "Product details, sizes and stock.",
         [(Metric.YES_NO, OP, "58", "70"), (Metric.CES, OP, "5.1", "5.6")]),
        ("Customer service chat", Channel.CHAT, False, "analyst", "chat-web",
         "Questions before buying.", [(Metric.CSAT, OP, "78", "85")]),
    ],
    "Purchase": [
        ("Web shop checkout", Channel.WEB, True, "cx", "/checkout/*",
         "Cart, delivery choice and payment.",
         [(Metric.CES, OP, "4.9", "5.8"), (Metric.CSAT, TAC, "81", "88")]),
        ("Order confirmation email", Channel.EMAIL, False, "cx", "order-confirmation",
         "Sent right after payment.", []),
    ],
    "Delivery": [
        ("Home delivery", Channel.FIELD_SERVICE, True, "owner", "carrier-home",
         "Delivered by our carrier partner.", [(Metric.CSAT, OP, "74", "85")]),
        ("Parcel locker pickup", Channel.PHYSICAL_STORE, False, "owner", "carrier-locker",
         "Pickup from a parcel locker.", [(Metric.CES, OP, "5.4", "5.8")]),
    ],
    "Use": [
        ("Product in use", Channel.OTHER, False, "analyst", "", "Two weeks after delivery.",
         [(Metric.NPS, TAC, "21", "35")]),
        ("Returns", Channel.WEB, True, "cx", "/returns/*", "Return and refund.",
         [(Metric.CES, OP, "4.2", "5.5"), (Metric.CSAT, OP, "69", "80")]),
    ],
    "Support": [
        ("Support call", Channel.PHONE, True, "cx", "ivr-support", "Customer service by phone.",
         [(Metric.CSAT, OP, "76", "85"), (Metric.CES, OP, "4.8", "5.6")]),
        ("Support email", Channel.EMAIL, False, "cx", "support@", "Tickets answered by email.",
         [(Metric.CSAT, OP, "72", "82")]),
    ],
    "Repurchase": [
        ("Loyalty program", Channel.MOBILE_APP, False, "owner", "app-loyalty",
         "Points and member offers in the app.", [(Metric.NPS, TAC, "28", "40")]),
        ("Relationship survey", Channel.EMAIL, True, "analyst", "relationship-nps",
         "Yearly survey of active customers.", [(Metric.NPS, TAC, "24", "35")]),
    ],
}  # fmt: skip

STORE_VISIT = {
    "Before the visit": [
        ("Store finder", Channel.WEB, False, "cx", "/stores/*", "Opening hours and directions.",
         [(Metric.YES_NO, OP, "71", "80")]),
    ],
    "In the store": [
        ("Store visit", Channel.PHYSICAL_STORE, True, "owner", "store-*",
         "Finding products, staff help and queues.",
         [(Metric.CSAT, OP, "82", "88"), (Metric.SMILEY, OP, "76", "82")]),
        ("Fitting room", Channel.PHYSICAL_STORE, False, "owner", "", "Trying clothes on.", []),
    ],
    "Checkout": [
        ("Checkout counter", Channel.PHYSICAL_STORE, True, "owner", "pos-*",
         "Paying, loyalty card and receipt.",
         [(Metric.CES, OP, "5.6", "6.0"), (Metric.CSAT, OP, "84", "90")]),
    ],
    "After the visit": [
        ("Receipt survey", Channel.EMAIL, False, "analyst", "receipt-survey",
         "Survey link on the receipt.", [(Metric.NPS, TAC, "31", "40")]),
        ("In-store return", Channel.PHYSICAL_STORE, False, "owner", "store-returns",
         "Returning web shop orders in a store.", [(Metric.CES, OP, "5.0", "5.7")]),
    ],
}  # fmt: skip

JOURNEYS = [
    ("B2C web shop", "Consumers buying online",
     "From first seeing us to buying again, for consumers who shop in the web shop.", WEB_SHOP),
    ("Store visit", "Consumers visiting a store",
     "A visit to one of our stores, from finding it to what happens afterwards.", STORE_VISIT),
]  # fmt: skip


def load_demo_journeys(*, organization, actor, owners: dict) -> list[Journey]:
    """Create the demo journeys unless the organization has journeys already (then nothing).

    `owners` maps the keys "owner", "cx" and "analyst" to members; a missing key leaves those
    touchpoints without an owner. Every row is written through the services, so the audit log
    shows the demo data like any other change.
    """
    with tenant_scope(organization):
        if Journey.objects.filter(organization=organization).exists():
            return []
        created = []
        for name, segment, description, stages in JOURNEYS:
            journey = services.journey_create(
                actor=actor,
                organization=organization,
                name=name,
                segment=segment,
                description=description,
            )
            for stage_name, touchpoints in stages.items():
                stage = services.stage_create(actor=actor, journey=journey, name=stage_name)
                for tp_name, channel, key, owner, ref, text, plans in touchpoints:
                    touchpoint = services.touchpoint_create(
                        actor=actor,
                        stage=stage,
                        name=tp_name,
                        description=text,
                        channel=channel,
                        is_key=key,
                        owner=owners.get(owner),
                        external_ref=ref,
                    )
                    for metric, kind, baseline, target in plans:
                        services.measurement_plan_create(
                            actor=actor,
                            touchpoint=touchpoint,
                            metric=metric,
                            kpi_kind=kind,
                            baseline_value=Decimal(baseline),
                            baseline_date=BASELINE_DATE,
                            target_value=Decimal(target),
                            target_date=TARGET_DATE,
                        )
            created.append(journey)
        return created
