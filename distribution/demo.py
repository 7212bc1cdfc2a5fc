"""Demo data for distribution: contacts, segments, campaigns and a history of invitations.

`load_demo_distribution` is called by `manage.py load_demo` after the surveys and their year of
responses exist. It writes history, it never sends: rows are written in bulk exactly as the
senders would have left them (an invitation, its personal link and its status events), and an
answered invitation gets an existing demo response of its survey, submitted within two days of
the (reminder) email or SMS, through `Response.personal_link`. Responses are not otherwise
changed, so the metric rollups stay valid without a rebuild.

Nothing is left for the workers to pick up: no invitation is queued, every unanswered campaign
invitation has had its one reminder, and the only scheduled campaign is due next week (the
sweep starts it then, as it would any scheduled campaign).
"""

import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from core import handles
from core.models import HandleKind
from core.scoping import tenant_scope
from distribution.enums import (
    CampaignChannel,
    CampaignStatus,
    Channel,
    ConsentSource,
    InvitationStatus,
    RuleField,
    RuleOperator,
    SkipReason,
)
from distribution.models import Campaign, Contact, Invitation, InvitationEvent, KioskDevice
from distribution.services import segment_create
from distribution.services.configuration import (
    distribution_settings_update,
    survey_email_template_save,
)
from distribution.services.invitations import campaign_create, campaign_send
from distribution.services.kiosk import kiosk_device_create
from surveys.models import PersonalLink, Response, Survey

SEED = 358
CONTACTS = 400
# Surveys by the names surveys/demo.py gives them ("<touchpoint>: <METRIC>").
RELATIONSHIP_SURVEY = "Relationship survey: NPS"
LOYALTY_SURVEY = "Loyalty program: NPS"
# A store visit (a receipt at the till) triggers one of these, shared out by the POS system.
STORE_SURVEYS = [("Store visit: CSAT", 0.6), ("Checkout counter: CES", 0.4)]
KIOSK_SURVEY = "Store visit: SMILEY"
KIOSKS = [("Kamppi main exit", "Kamppi"), ("Itis exit", "Itis"), ("Sello exit", "Sello")]
DEMO_SHOP = "https://shop.demo.example"

STORES = {"Kamppi": "KAM", "Tampere": "TRE", "Turku": "TKU", "Oulu": "OUL", "Webshop": "WEB"}
# Home store weights by language: Swedish speakers live mostly in Helsinki and Turku.
STORE_WEIGHTS = {
    "fi": [30, 22, 15, 15, 18],
    "sv": [40, 5, 35, 0, 20],
    "en": [45, 15, 10, 5, 25],
}
SEGMENTS = [("Premium", 22), ("Regular", 58), ("New", 20)]
# Store visits per contact over 90 days, by customer segment.
VISITS_PER_90_DAYS = {"Premium": 3.2, "Regular": 1.6, "New": 1.3}
SMS_DELAY = timedelta(hours=1)
ANSWER_WINDOW = timedelta(days=2)
REMINDER_AFTER_DAYS = 3
TRIGGER_DAYS = 90
# The SMS after a store visit started as a pilot in Kamppi and reached every store later; it also
# keeps the quarantine from skipping most of the premium campaign, which went out in between.
ROLLOUT_DAYS_AGO = 45
CAMPAIGN_DAYS_AGO = 60
SMS_STOPPERS = 2  # contacts who answer their first demo SMS with STOP
BOUNCES = 3  # premium campaign emails that bounce

# Space-separated, split once below.
FIRST_NAMES = {
    "fi": (
        "Aino Anna Emma Helmi Ella Sofia Aada Venla Laura Maria Sanna Johanna Elina Katja Minna "
        "Riikka Tiina Päivi Satu Heidi Noora Veera Iida Eveliina Marjatta Kaarina Leena Hanna "
        "Kirsi Outi Juha Mikko Timo Jari Antti Matti Janne Ville Tuomas Eero Onni Leevi Väinö "
        "Eino Aleksi Lauri Olli Pekka Kari Markku Sami Petri Teemu Jussi Heikki Joonas Niko Otto "
        "Kalle Tapio"
    ),
    "sv": (
        "Ebba Elsa Alice Maja Linnea Wilma Ida Klara Ingrid Astrid Matilda Sara Johan Erik Henrik "
        "Mats Anders Fredrik Oskar Axel Gustav Lars Nils Emil Mikael Kristian"
    ),
    "en": (
        "James Oliver Emily Sophie Daniel Grace Thomas Hannah Lucas Chloe Ryan Megan David Olivia "
        "Samuel Michael Sarah Priya Ahmed Elena"
    ),
}
LAST_NAMES = {
    "fi": (
        "Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen "
        "Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen "
        "Salo Laitinen Tuominen Rantanen Karjalainen Jokinen Mattila Savolainen Lahtinen Ahonen "
        "Hiltunen Väisänen Kettunen Leinonen Räsänen Peltonen Ojala Kallio Aaltonen Pesonen"
    ),
    "sv": (
        "Lindqvist Sjöberg Andersson Johansson Karlsson Nyström Lindberg Holmström Eriksson "
        "Lindroos Sundström Forsman Granqvist Wikström Blomqvist Åberg Ekholm Strand Backman "
        "Nyberg"
    ),
    "en": (
        "Smith Johnson Brown Taylor Wilson Davies Evans Walker Wright Clarke Hughes Murphy Kelly "
        "O'Brien Patel Nguyen Rossi García Müller Novak"
    ),
}
FIRST_NAMES = {language: text.split() for language, text in FIRST_NAMES.items()}
LAST_NAMES = {language: text.split() for language, text in LAST_NAMES.items()}
# Only the domains reserved for examples (RFC 2606): a demo database must never email a person.
EMAIL_DOMAINS = {
    "fi": ["example.com"] * 3 + ["example.net"],
    "sv": ["example.org", "example.net"],
    "en": ["example.com"] * 3 + ["example.org"],
}
MOBILE_PREFIXES = ["40", "40", "40", "50", "50", "44", "45", "41", "46"]
CONSENT_SOURCES = [ConsentSource.CRM] * 6 + [ConsentSource.IMPORT] * 2 + [ConsentSource.FORM]
GDPR_DAY = date(2018, 5, 25)  # consents older than this were asked again then
EMAIL_OPT_OUT_REASONS = ["Unsubscribe link", "Asked by phone", "Too many emails", "Asked in store"]
BOUNCE_REASON = "email bounced: bounced; 550 5.1.1 The email account does not exist"
SMS_SEND_FAILURE = "twilio 21614: 'To' number is not a valid mobile number"
SMS_UNDELIVERED = "twilio undelivered 30003"

EMAIL_TEXTS = {
    "fi": (
        "Miten onnistuimme tänä vuonna? Kerro meille",
        "Hei! Olet ollut kanta-asiakkaamme jo pitkään, ja haluamme kuulla, miten olemme "
        "onnistuneet. Vastaaminen vie alle kaksi minuuttia.",
    ),
    "sv": (
        "Hur lyckades vi i år? Berätta för oss",
        "Hej! Du har varit stamkund hos oss länge och vi vill gärna höra hur vi har lyckats. "
        "Det tar under två minuter att svara.",
    ),
    "en": (
        "How did we do this year? Tell us",
        "Hello! You have been one of our loyal customers for a long time, and we would like to "
        "hear how we are doing. Answering takes less than two minutes.",
    ),
}


@dataclass
class _Planned:
    """One invitation as the senders would have left it (contact and campaign ids come later)."""

    contact: Contact
    survey: Survey
    channel: str
    event: str  # the trigger's event id; "" for a campaign invitation
    campaign: Campaign | None
    created_at: datetime
    status: str
    skip_reason: str = ""
    failure_reason: str = ""
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    opened_at: datetime | None = None
    response_id: int | None = None
    reminders_sent: int = 0
    last_reminder_at: datetime | None = None
    provider_message_id: str = ""
    events: list[tuple[str, datetime, str]] = field(default_factory=list)


class _Responses:
    """Demo responses without a personal link, to be handed out to answered invitations: the
    earliest one of the same survey, channel and language inside the answer window."""

    def __init__(self, *, organization, surveys: list[Survey], since: datetime):
        self.pools: dict[tuple, tuple[list[datetime], list[int]]] = {}
        rows = (
            Response.objects.filter(
                organization=organization,
                survey__in=surveys,
                submitted_at__gte=since,
                personal_link__isnull=True,
            )
            .order_by("submitted_at", "pk")
            .values_list("pk", "survey_id", "channel", "language", "submitted_at")
        )
        for pk, survey_id, channel, language, submitted_at in rows:
            times, ids = self.pools.setdefault((survey_id, channel, language), ([], []))
            times.append(submitted_at)
            ids.append(pk)
        self.used: set[int] = set()

    def take(self, *, survey: Survey, channel: str, language: str, after: datetime):
        times, ids = self.pools.get((survey.pk, channel, language), ([], []))
        for index in range(bisect_right(times, after), len(times)):
            if times[index] > after + ANSWER_WINDOW:
                break
            if ids[index] not in self.used:
                self.used.add(ids[index])
                return ids[index], times[index]
        return None


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(character for character in folded.lower() if character.isalnum())


def _at(day: date, hour: int, minute: int, zone) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def _weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _seconds(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))


# --- contacts --------------------------------------------------------------------------------


def _contacts(*, organization, rng: random.Random, now: datetime) -> list[Contact]:
    """Seeded customers from the CRM: names, addresses, attributes, consent and opt-outs."""
    zone = organization.zone
    today = now.astimezone(zone).date()
    crm_import = _at(today - timedelta(days=400), 2, 15, zone)
    external_ids = rng.sample(range(100_001, 199_999), CONTACTS)
    emails: set[str] = set()
    phones: set[str] = set()
    contacts = []
    for index in range(CONTACTS):
        language = rng.choices(["fi", "sv", "en"], weights=[78, 16, 6])[0]
        first, last = rng.choice(FIRST_NAMES[language]), rng.choice(LAST_NAMES[language])
        segment = rng.choices([name for name, _ in SEGMENTS], [w for _, w in SEGMENTS])[0]
        store = rng.choices(list(STORES), weights=STORE_WEIGHTS[language])[0]
        if segment == "Premium":
            since = date(2012, 1, 1) + timedelta(days=rng.randint(0, 3800))
        elif segment == "Regular":
            since = date(2015, 1, 1) + timedelta(
                days=rng.randint(0, (today - date(2015, 1, 1)).days - 220)
            )
        else:
            since = today - timedelta(days=rng.randint(3, 150))
        plan = (
            "Plus"
            if segment == "Premium"
            else rng.choices(["Basic", "Plus", "Family"], [80, 8, 12])[0]
        )
        # The nightly CRM sync adds new customers; everyone older came with the first import.
        created_at = max(crm_import, _at(since + timedelta(days=1), 2, 15, zone))

        email = ""
        if rng.random() < 0.95:
            local = rng.choice(
                [f"{_ascii(first)}.{_ascii(last)}", f"{_ascii(first)}{_ascii(last)}",
                 f"{_ascii(first)[0]}.{_ascii(last)}", f"{_ascii(first)}.{_ascii(last)[0]}"]
            )  # fmt: skip
            domain = rng.choice(EMAIL_DOMAINS[language])
            email, suffix = f"{local}@{domain}", 1
            while email in emails:
                suffix += 1
                email = f"{local}{suffix}@{domain}"
            emails.add(email)
        phone = ""
        if rng.random() < (0.92 if store != "Webshop" else 0.7):
            while not phone or phone in phones:
                phone = f"+358{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
            phones.add(phone)

        attributes = {
            "segment": segment,
            "store": store,
            "plan": plan,
            "customer_since": since.isoformat(),
        }
        if rng.random() < 0.45:
            attributes["preferred_channel"] = "sms" if phone and rng.random() < 0.6 else "email"

        consent_day = max(since, GDPR_DAY + timedelta(days=rng.randint(0, 40)))
        consent_at = _at(consent_day, rng.randint(9, 20), rng.randint(0, 59), zone)
        contact = Contact(
            organization=organization,
            external_id=f"C-{external_ids[index]}",
            name=f"{first} {last}",
            email=email,
            phone=phone,
            preferred_language=language,
            attributes=attributes,
            created_at=created_at,
        )
        if email and rng.random() < 0.86:
            contact.email_consent = True
            contact.email_consent_at = consent_at
            contact.email_consent_source = rng.choice(CONSENT_SOURCES)
        if phone and rng.random() < 0.8:
            contact.sms_consent = True
            contact.sms_consent_at = consent_at + _seconds(rng, 0, 90)
            contact.sms_consent_source = contact.email_consent_source or rng.choice(CONSENT_SOURCES)
        contacts.append(contact)

    # A handful opted out after consenting and before the period the demo invitations cover.
    latest = _at(today - timedelta(days=TRIGGER_DAYS + 5), 12, 0, zone)
    for prefix, count, reasons in (
        (Channel.EMAIL, 6, EMAIL_OPT_OUT_REASONS),
        (Channel.SMS, 5, ["SMS STOP reply"]),
    ):
        consented = [
            contact
            for contact in contacts
            if getattr(contact, f"{prefix}_consent")
            and max(getattr(contact, f"{prefix}_consent_at"), contact.created_at)
            < latest - timedelta(days=30)
        ]
        for contact in rng.sample(consented, count):
            since = max(getattr(contact, f"{prefix}_consent_at"), contact.created_at)
            seconds = rng.randint(86_400, int((latest - since).total_seconds()))
            setattr(contact, f"{prefix}_opted_out_at", since + timedelta(seconds=seconds))
            setattr(contact, f"{prefix}_opt_out_reason", rng.choice(reasons))
    return contacts


# --- invitations -----------------------------------------------------------------------------


class _History:
    """Plays the contact-frequency rules forward in time, as the senders apply them."""

    def __init__(
        self, *, rng: random.Random, responses: _Responses, throttle: int, quarantine: int
    ):
        self.rng = rng
        self.responses = responses
        self.throttle = timedelta(days=throttle)
        self.quarantine = timedelta(days=quarantine)
        self.last_sent: dict[int, datetime] = {}  # id(contact) -> last sent_at
        self.last_sent_survey: dict[tuple[int, int], datetime] = {}
        self.planned: list[_Planned] = []

    def skip_reason(self, contact: Contact, channel: str, survey: Survey, at: datetime) -> str:
        """`invitations.contact_skip_reason`, at a moment in the past."""
        prefix = Channel(channel).value
        opted_out_at = getattr(contact, f"{prefix}_opted_out_at")
        consent_at = getattr(contact, f"{prefix}_consent_at")
        if opted_out_at is not None and opted_out_at <= at:
            return SkipReason.OPTED_OUT
        if not getattr(contact, f"{prefix}_consent") or consent_at > at:
            return SkipReason.NO_CONSENT
        if not contact.address_for(channel):
            return SkipReason.NO_ADDRESS
        if channel == Channel.EMAIL and contact.email_bounced_at and contact.email_bounced_at <= at:
            return SkipReason.UNDELIVERABLE
        last = self.last_sent_survey.get((id(contact), survey.pk))
        if self.throttle and last and last >= at - self.throttle:
            return SkipReason.THROTTLED
        last = self.last_sent.get(id(contact))
        if self.quarantine and last and last >= at - self.quarantine:
            return SkipReason.QUARANTINED
        return ""

    def queue(self, invitation: _Planned) -> _Planned | None:
        """Record the invitation as queued, or as skipped with its reason; None when skipped."""
        reason = self.skip_reason(
            invitation.contact, invitation.channel, invitation.survey, invitation.created_at
        )
        self.planned.append(invitation)
        if reason:
            invitation.status, invitation.skip_reason = InvitationStatus.SKIPPED, reason
            invitation.events.append((InvitationStatus.SKIPPED, invitation.created_at, reason))
            return None
        invitation.events.append((InvitationStatus.QUEUED, invitation.created_at, ""))
        return invitation

    def sent(self, invitation: _Planned, at: datetime) -> None:
        invitation.status, invitation.sent_at = InvitationStatus.SENT, at
        invitation.events.append((InvitationStatus.SENT, at, ""))
        self.last_sent[id(invitation.contact)] = at
        self.last_sent_survey[(id(invitation.contact), invitation.survey.pk)] = at

    def delivered(self, invitation: _Planned, at: datetime) -> None:
        invitation.status = InvitationStatus.DELIVERED
        invitation.events.append((InvitationStatus.DELIVERED, at, ""))

    def answer(self, invitation: _Planned, after: datetime) -> bool:
        """Hand the invitation a demo response sent within two days of `after`, if there is one."""
        found = self.responses.take(
            survey=invitation.survey,
            channel=invitation.channel,
            language=invitation.contact.preferred_language,
            after=after,
        )
        if found is None:
            return False
        invitation.response_id, submitted_at = found
        invitation.status, invitation.answered_at = InvitationStatus.ANSWERED, submitted_at
        invitation.opened_at = submitted_at - _seconds(self.rng, 40, 300)
        invitation.events.append((InvitationStatus.ANSWERED, submitted_at, ""))
        return True

    def open_only(self, invitation: _Planned) -> None:
        """The link was opened and an answer started, never finished (the sweep marks these
        opened without an event of its own)."""
        invitation.status = InvitationStatus.OPENED
        invitation.opened_at = invitation.sent_at + _seconds(self.rng, 120, 36 * 3600)


def _campaign_history(history: _History, *, campaign: Campaign, audience: list[Contact]) -> None:
    """The premium email campaign: sent at `campaign.started_at`, one reminder three days later;
    a few addresses bounce (the contacts are marked undeliverable)."""
    rng, start = history.rng, campaign.started_at
    reminder_at = start + timedelta(days=REMINDER_AFTER_DAYS, minutes=2)
    queued_at = [start + timedelta(seconds=position // 20) for position in range(len(audience))]
    sendable = [
        contact
        for contact, at in zip(audience, queued_at, strict=True)
        if not history.skip_reason(contact, Channel.EMAIL, campaign.survey, at)
    ]
    bounced = rng.sample(sendable, min(BOUNCES, len(sendable)))
    for position, contact in enumerate(audience):
        queued = queued_at[position]
        invitation = history.queue(
            _Planned(
                contact=contact,
                survey=campaign.survey,
                channel=Channel.EMAIL,
                event="",
                campaign=campaign,
                created_at=queued,
                status=InvitationStatus.QUEUED,
            )
        )
        if invitation is None:
            continue
        sent_at = queued + _seconds(rng, 2, 40 + position)
        history.sent(invitation, sent_at)
        if contact in bounced:
            bounced_at = sent_at + _seconds(rng, 20, 90)
            contact.email_bounced_at, contact.email_bounce_reason = bounced_at, BOUNCE_REASON
            invitation.status, invitation.failure_reason = InvitationStatus.BOUNCED, BOUNCE_REASON
            invitation.events.append((InvitationStatus.BOUNCED, bounced_at, BOUNCE_REASON))
            continue
        if rng.random() < 0.97:
            history.delivered(invitation, sent_at + _seconds(rng, 1, 15))
        if rng.random() < 0.5 and history.answer(invitation, sent_at):
            continue
        invitation.reminders_sent, invitation.last_reminder_at = 1, reminder_at
        invitation.events.append((InvitationStatus.SENT, reminder_at, "reminder 1"))
        if rng.random() < 0.35 and history.answer(invitation, reminder_at):
            continue
        if rng.random() < 0.15:
            history.open_only(invitation)


def _store_visits(
    *, contacts: list[Contact], rng: random.Random, now: datetime, zone
) -> list[tuple[datetime, Contact, str]]:
    """(time, contact, store) of receipts with a loyalty card over the last 90 days."""
    today = now.astimezone(zone).date()
    visits = []
    for contact in contacts:
        if not contact.phone:
            continue  # the till triggers the SMS survey only for loyalty cards with a mobile number
        home = contact.attributes["store"]
        rate = VISITS_PER_90_DAYS[contact.attributes["segment"]]
        if home == "Webshop":
            rate = 0.3
        for _ in range(int(rate * 3)):
            if rng.random() > 1 / 3:
                continue
            day = today - timedelta(days=rng.randint(1, TRIGGER_DAYS))
            if day.weekday() == 6 and rng.random() < 0.5:
                day -= timedelta(days=1)  # Saturdays are busy, Sunday hours are short
            at = _at(day, rng.randint(10, 19), rng.randint(0, 59), zone)
            if at <= contact.created_at:
                continue
            store = home if home != "Webshop" else rng.choice(["Kamppi", "Tampere"])
            if rng.random() < 0.1:
                store = rng.choice(["Kamppi", "Tampere", "Turku", "Oulu"])
            visits.append((at, contact, store))
    visits.sort(key=lambda visit: (visit[0], visit[1].external_id))
    return visits


def _triggered_history(
    history: _History,
    *,
    visits: list[tuple[datetime, Contact, str]],
    surveys: list[tuple[Survey, float]],
    rollout: datetime,
    stoppers: list[Contact],
    receipts: dict[str, int],
) -> None:
    """An SMS an hour after each store visit (POS trigger, event id = the receipt number)."""
    rng = history.rng
    for at, contact, store in visits:
        if store != "Kamppi" and at < rollout:
            continue
        survey = rng.choices([s for s, _ in surveys], [w for _, w in surveys])[0]
        code = STORES[store]
        receipts[code] = receipts.get(code, 0) + rng.randint(40, 400)
        receipt = f"{code}-{at.strftime('%Y%m%d')}-{receipts[code] % 10_000:04d}"
        invitation = history.queue(
            _Planned(
                contact=contact,
                survey=survey,
                channel=Channel.SMS,
                event=f"receipt-{receipt}",
                campaign=None,
                created_at=at,
                status=InvitationStatus.QUEUED,
            )
        )
        if invitation is None:
            continue
        due = at + SMS_DELAY
        outcome = rng.random()
        if outcome < 0.01:
            failed_at = due + _seconds(rng, 1, 5)
            invitation.status, invitation.failure_reason = InvitationStatus.FAILED, SMS_SEND_FAILURE
            invitation.events.append((InvitationStatus.FAILED, failed_at, SMS_SEND_FAILURE))
            continue
        sent_at = due + _seconds(rng, 1, 20)
        invitation.provider_message_id = f"SM{rng.getrandbits(128):032x}"
        history.sent(invitation, sent_at)
        if outcome < 0.025:
            failed_at = sent_at + _seconds(rng, 20, 120)
            invitation.status, invitation.failure_reason = InvitationStatus.FAILED, SMS_UNDELIVERED
            invitation.events.append((InvitationStatus.FAILED, failed_at, SMS_UNDELIVERED))
            continue
        if outcome < 0.045:
            continue  # no delivery report came back
        delivered_at = sent_at + _seconds(rng, 3, 25)
        history.delivered(invitation, delivered_at)
        if contact in stoppers and contact.sms_opted_out_at is None:
            contact.sms_opted_out_at = delivered_at + _seconds(rng, 60, 900)
            contact.sms_opt_out_reason = "SMS STOP reply"
            continue
        if rng.random() < 0.42 and history.answer(invitation, sent_at):
            continue
        if rng.random() < 0.08:
            history.open_only(invitation)


# --- writing ---------------------------------------------------------------------------------


def _bulk_create_dated(model, rows: list, fields: list[str], batch_size: int = 500) -> None:
    """bulk_create, keeping the past moments the rows hold in `fields`.

    auto_now(_add) fields are set to "now" on every insert whatever the object holds, so the
    planned values are written back with one plain `UPDATE ... WHERE id = %s` run over all rows
    (executemany): bulk_update's CASE per row cost more than the rest of the demo together."""
    wanted = [[getattr(row, name) for name in fields] for row in rows]
    model.objects.bulk_create(rows, batch_size=batch_size)
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model, values as parameters)
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = []
    for row, values in zip(rows, wanted, strict=True):
        for name, value in zip(fields, values, strict=True):
            setattr(row, name, value)
        prepared = [
            column.get_db_prep_save(value, connection)
            for column, value in zip(columns, values, strict=True)
        ]
        params.append([*prepared, row.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _write_invitations(
    *, organization, planned: list[_Planned], link_expiry_days: int
) -> tuple[int, int, int]:
    """Personal links, invitations and their events in bulk, and the answered invitations'
    responses linked to their personal links. Returns (invitations, events, responses linked)."""
    links = {}
    for item in planned:
        if item.skip_reason:
            continue  # as `_new_invitation` does: a skipped invitation gets no link
        link = PersonalLink(
            organization=organization,
            survey=item.survey,
            touchpoint=item.survey.touchpoint,
            language=item.contact.preferred_language,
            channel=item.channel,
            expires_at=_scheduled_for(item) + timedelta(days=link_expiry_days),
            opened_at=item.opened_at,
        )
        link.created_at = item.created_at
        link.updated_at = item.answered_at or item.opened_at or item.created_at
        links[id(item)] = link
    _bulk_create_dated(PersonalLink, list(links.values()), ["created_at", "updated_at"])
    handles.claim_many(HandleKind.PERSONAL_LINK, links.values(), "token")

    invitations = []
    for item in planned:
        if item.campaign is not None:
            natural_key = f"cmp:{item.campaign.pk}:{item.contact.pk}"
        else:
            natural_key = f"trg:{item.survey.pk}:{item.contact.pk}:{item.event}"
        invitation = Invitation(
            organization=organization,
            contact=item.contact,
            survey=item.survey,
            touchpoint=item.survey.touchpoint,
            campaign=item.campaign,
            personal_link=links.get(id(item)),
            channel=item.channel,
            address=item.contact.address_for(item.channel),
            language=item.contact.preferred_language,
            natural_key=natural_key,
            scheduled_for=_scheduled_for(item),
            status=item.status,
            skip_reason=item.skip_reason,
            failure_reason=item.failure_reason,
            attempts=0 if item.skip_reason else 1,
            reminders_sent=item.reminders_sent,
            last_reminder_at=item.last_reminder_at,
            sent_at=item.sent_at,
            answered_at=item.answered_at,
            provider_message_id=item.provider_message_id,
        )
        invitation.created_at = item.created_at
        invitation.updated_at = max(at for _status, at, _detail in item.events)
        invitations.append(invitation)
    _bulk_create_dated(Invitation, invitations, ["created_at", "updated_at"])
    handles.claim_many(
        HandleKind.PROVIDER_MESSAGE,
        [invitation for invitation in invitations if invitation.provider_message_id],
        "provider_message_id",
        ignore_conflicts=True,
    )

    events = []
    for item, invitation in zip(planned, invitations, strict=True):
        for status, at, detail in item.events:
            event = InvitationEvent(
                organization=organization, invitation=invitation, status=status, detail=detail
            )
            event.created_at = at
            events.append(event)
    _bulk_create_dated(InvitationEvent, events, ["created_at"], batch_size=1000)

    answered = [
        Response(pk=item.response_id, personal_link=links[id(item)])
        for item in planned
        if item.response_id is not None
    ]
    Response.objects.bulk_update(answered, ["personal_link"], batch_size=500)
    return len(invitations), len(events), len(answered)


def _scheduled_for(item: _Planned) -> datetime:
    return item.created_at if item.campaign is not None else item.created_at + SMS_DELAY


# --- the whole demo --------------------------------------------------------------------------


def load_demo_distribution(*, organization, actor) -> dict[str, int]:
    """Contacts, segments, campaigns and a history of invitations for the demo organization.

    Does nothing (returns {}) when the organization has contacts already, so running
    `load_demo` again adds nothing, or when the demo surveys it invites to are missing.
    Segments, campaigns, settings and email texts go through the services (and the audit log);
    contacts, links, invitations and events are written in bulk, and answered invitations
    take over demo responses (only `Response.personal_link` is set). Sends nothing and queues
    no task. Returns how many rows of each kind were made.
    """
    with tenant_scope(organization):
        if Contact.objects.filter(organization=organization).exists():
            return {}
        names = [RELATIONSHIP_SURVEY, LOYALTY_SURVEY, *(name for name, _ in STORE_SURVEYS)]
        surveys = {
            survey.name: survey
            for survey in Survey.objects.filter(
                organization=organization, name__in=names
            ).select_related("touchpoint", "current_version")
        }
        if set(names) - set(surveys) or not all(survey.is_open for survey in surveys.values()):
            return {}
        with transaction.atomic():
            return _load(organization=organization, actor=actor, surveys=surveys)


def _load(*, organization, actor, surveys: dict[str, Survey]) -> dict[str, int]:
    rng = random.Random(SEED)
    now = timezone.now()
    zone = organization.zone
    today = now.astimezone(zone).date()
    config = distribution_settings_update(actor=actor, organization=organization)

    segments = {
        key: segment_create(
            actor=actor, organization=organization, name=name, description=text, rules=rules
        )
        for key, name, text, rules in [
            ("premium", "Premium customers", "Plus members with the most purchases.",
             [{"field": "attr.segment", "op": RuleOperator.EQUALS, "value": "Premium"}]),
            ("kamppi", "Helsinki store visitors", "Customers whose home store is Kamppi.",
             [{"field": "attr.store", "op": RuleOperator.EQUALS, "value": "Kamppi"}]),
            ("sms", "Reachable by SMS", "A mobile number, SMS consent and no opt-out.",
             [{"field": RuleField.SMS_REACHABLE, "op": RuleOperator.IS, "value": True}]),
        ]
    }  # fmt: skip

    relationship = surveys[RELATIONSHIP_SURVEY]
    started = _at(_weekday_on_or_before(today - timedelta(days=CAMPAIGN_DAYS_AGO), 1), 9, 0, zone)
    premium = campaign_create(
        actor=actor,
        organization=organization,
        name="Premium customers: yearly relationship survey",
        survey=relationship,
        channel=CampaignChannel.EMAIL,
        segment=segments["premium"],
        scheduled_for=started,
        reminders=1,
        reminder_after_days=REMINDER_AFTER_DAYS,
    )
    # What `campaign_send` and the sweep would have recorded two months ago, minus the sending.
    Campaign.objects.filter(pk=premium.pk).update(
        status=CampaignStatus.SENT,
        started_at=started,
        created_at=started - timedelta(days=2, hours=4),
        updated_at=started + timedelta(minutes=1),
    )
    premium.refresh_from_db()
    next_tuesday = today + timedelta(days=7 - today.weekday() + 1)
    loyalty = campaign_create(
        actor=actor,
        organization=organization,
        name="Kamppi customers: loyalty program survey",
        survey=surveys[LOYALTY_SURVEY],
        # Email, not the preferred channel: should a demo database still run next week, the
        # campaign only reaches reserved example domains, never a phone that may be someone's.
        channel=CampaignChannel.EMAIL,
        segment=segments["kamppi"],
        scheduled_for=_at(next_tuesday, 10, 0, zone),
    )
    campaign_send(actor=actor, organization=organization, campaign=loyalty)  # future: scheduled

    contacts = _contacts(organization=organization, rng=rng, now=now)
    audience = [
        contact
        for contact in contacts
        if contact.attributes["segment"] == "Premium" and contact.created_at < started
    ]
    store_surveys = [(surveys[name], weight) for name, weight in STORE_SURVEYS]
    history = _History(
        rng=rng,
        responses=_Responses(
            organization=organization,
            surveys=[relationship, *(survey for survey, _ in store_surveys)],
            since=now - timedelta(days=TRIGGER_DAYS + 5),
        ),
        throttle=config.survey_throttle_days,
        quarantine=config.quarantine_days,
    )
    visits = _store_visits(contacts=contacts, rng=rng, now=now, zone=zone)
    rollout = _at(today - timedelta(days=ROLLOUT_DAYS_AGO), 0, 0, zone)
    visitors = {id(contact): contact for at, contact, _store in visits if at >= rollout}
    stoppers = rng.sample(
        [c for c in visitors.values() if c.sms_consent and c.sms_opted_out_at is None],
        SMS_STOPPERS,
    )
    triggered = {
        "surveys": store_surveys,
        "rollout": rollout,
        "stoppers": stoppers,
        "receipts": {},  # receipt numbers run on per store
    }
    # In time order, so each send sees the ones before it, as the frequency rules do.
    _triggered_history(history, visits=[v for v in visits if v[0] < started], **triggered)
    _campaign_history(history, campaign=premium, audience=audience)
    _triggered_history(history, visits=[v for v in visits if v[0] >= started], **triggered)

    for contact in contacts:
        moments = [contact.created_at, contact.email_opted_out_at, contact.sms_opted_out_at]
        contact.updated_at = max(m for m in [*moments, contact.email_bounced_at] if m)
    _bulk_create_dated(Contact, contacts, ["created_at", "updated_at"])
    invitations, events, answered = _write_invitations(
        organization=organization,
        planned=history.planned,
        link_expiry_days=config.link_expiry_days,
    )
    for language, (subject, intro) in EMAIL_TEXTS.items():
        survey_email_template_save(
            actor=actor,
            organization=organization,
            survey=relationship,
            language=language,
            subject=subject,
            intro=intro,
        )
    return {
        "contacts": len(contacts),
        "segments": len(segments),
        "campaigns": len((premium, loyalty)),
        "invitations": invitations,
        "events": events,
        "answered": answered,
        "email_templates": len(EMAIL_TEXTS),
    }


def load_demo_kiosks(*, organization, actor) -> int:
    """Kiosk tablets at the store exits asking the smiley survey, and the demo web shop as a
    website allowed to embed surveys. Nothing when the organization has kiosks already or the
    smiley survey is missing; returns how many devices were registered. Their addresses are not
    shown: a CX manager gives a device a new address on the Kiosks page to try one."""
    with tenant_scope(organization):
        if KioskDevice.objects.filter(organization=organization).exists():
            return 0
        survey = Survey.objects.filter(organization=organization, name=KIOSK_SURVEY).first()
        if survey is None or not survey.is_open:
            return 0
        with transaction.atomic():
            for name, location in KIOSKS:
                kiosk_device_create(
                    actor=actor,
                    organization=organization,
                    name=name,
                    survey=survey,
                    location=location,
                )
            if not organization.embed_allowed_origins:
                organization.embed_allowed_origins = [DEMO_SHOP]
                organization.save(update_fields=["embed_allowed_origins", "updated_at"])
        return len(KIOSKS)
