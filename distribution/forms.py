import re

from django import forms
from django.utils.translation import gettext_lazy as _

from distribution.enums import CampaignChannel, ImportTarget, RuleField, RuleOperator
from distribution.rules import ATTRIBUTE_PREFIX
from tenancy.enums import Language

LANGUAGE_CHOICES = [("", _("Not known")), *list(Language.choices)]
ANY_YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def parse_lines(text: str, *, field: str) -> list[tuple[str, str, str]]:
    """`name = value`, `name != value` or `name exists`, one per line -> (name, op, value)."""
    parsed = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.lower().endswith(" exists"):
            parsed.append((line[: -len(" exists")].strip(), RuleOperator.EXISTS, ""))
            continue
        for symbol, op in (("!=", RuleOperator.NOT_EQUALS), ("=", RuleOperator.EQUALS)):
            if symbol in line:
                name, value = line.split(symbol, 1)
                parsed.append((name.strip(), op, value.strip()))
                break
        else:
            raise forms.ValidationError(
                _("Line %(n)s: write name = value."), params={"n": number}, code=field
            )
    return parsed


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("Finnish numbers can be written as 040 123 4567; others with +country code."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    external_id = forms.CharField(
        label=_("External id"), max_length=100, required=False, help_text=_("The CRM's id.")
    )
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=LANGUAGE_CHOICES, required=False
    )
    attributes = forms.CharField(
        label=_("Attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: name = value, e.g. plan = gold."),
    )
    email_consent = forms.BooleanField(label=_("Has consented to email"), required=False)
    sms_consent = forms.BooleanField(label=_("Has consented to SMS"), required=False)
    email_opted_out = forms.BooleanField(label=_("Opted out of email"), required=False)
    sms_opted_out = forms.BooleanField(label=_("Opted out of SMS"), required=False)
    opt_out_reason = forms.CharField(
        label=_("Reason for a new opt-out"), max_length=200, required=False
    )

    def clean_attributes(self) -> dict:
        attributes = {}
        for name, op, value in parse_lines(self.cleaned_data["attributes"], field="attributes"):
            if op != RuleOperator.EQUALS:
                raise forms.ValidationError(_("Write each attribute as name = value."))
            attributes[name] = value
        return attributes

    @staticmethod
    def initial_for(contact) -> dict:
        return {
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "external_id": contact.external_id,
            "preferred_language": contact.preferred_language,
            "attributes": "\n".join(f"{k} = {v}" for k, v in contact.attributes.items()),
            "email_consent": contact.email_consent,
            "sms_consent": contact.sms_consent,
            "email_opted_out": contact.email_opted_out_at is not None,
            "sms_opted_out": contact.sms_opted_out_at is not None,
        }


class ContactFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Name, email, phone or external id."),
    )
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    attribute = forms.CharField(label=_("Attribute"), required=False, max_length=50)
    value = forms.CharField(label=_("Attribute value"), required=False, max_length=500)

    def __init__(self, *args, segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].choices = [("", _("All contacts"))] + [
            (segment.public_id, segment.name) for segment in segments
        ]


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=[("", _("Any")), *list(Language.choices)],
        required=False,
    )
    email_consent = forms.ChoiceField(label=_("Email consent"), choices=ANY_YES_NO, required=False)
    sms_consent = forms.ChoiceField(label=_("SMS consent"), choices=ANY_YES_NO, required=False)
    email_reachable = forms.ChoiceField(
        label=_("Reachable by email"),
        choices=ANY_YES_NO,
        required=False,
        help_text=_("Has an email address and consent, and has not opted out."),
    )
    sms_reachable = forms.ChoiceField(
        label=_("Reachable by SMS"), choices=ANY_YES_NO, required=False
    )
    attribute_rules = forms.CharField(
        label=_("Attribute conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: plan = gold, store != Espoo, or loyalty_id exists. All must hold."
        ),
    )

    _FLAGS = {
        "email_consent": RuleField.EMAIL_CONSENT,
        "sms_consent": RuleField.SMS_CONSENT,
        "email_reachable": RuleField.EMAIL_REACHABLE,
        "sms_reachable": RuleField.SMS_REACHABLE,
    }

    def clean(self):
        cleaned = super().clean()
        rules = []
        if cleaned.get("language"):
            rules.append(
                {
                    "field": RuleField.LANGUAGE,
                    "op": RuleOperator.EQUALS,
                    "value": cleaned["language"],
                }
            )
        for name, field in self._FLAGS.items():
            if cleaned.get(name):
                rules.append(
                    {"field": field, "op": RuleOperator.IS, "value": cleaned[name] == "yes"}
                )
        try:
            lines = parse_lines(cleaned.get("attribute_rules", ""), field="attribute_rules")
        except forms.ValidationError as error:
            self.add_error("attribute_rules", error)
            lines = []
        for name, op, value in lines:
            rule = {"field": ATTRIBUTE_PREFIX + name, "op": op, "value": value}
            if op == RuleOperator.EXISTS:
                rule["value"] = True
            rules.append(rule)
        cleaned["rules"] = rules
        return cleaned

    @classmethod
    def initial_for(cls, segment) -> dict:
        initial = {"name": segment.name, "description": segment.description}
        flags = {field: name for name, field in cls._FLAGS.items()}
        lines = []
        for rule in segment.rules:
            field, op, value = rule["field"], rule["op"], rule["value"]
            if field == RuleField.LANGUAGE:
                initial["language"] = value
            elif field in flags:
                initial[flags[field]] = "yes" if value else "no"
            else:
                name = field[len(ATTRIBUTE_PREFIX) :]
                symbol = {RuleOperator.EQUALS: "=", RuleOperator.NOT_EQUALS: "!="}.get(op)
                lines.append(f"{name} exists" if symbol is None else f"{name} {symbol} {value}")
        initial["attribute_rules"] = "\n".join(lines)
        return initial


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "First row names the columns. Comma, semicolon or tab separated; UTF-8 or Excel's "
            "encoding. At most 50 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ImportMappingForm(forms.Form):
    phone_region = forms.CharField(
        label=_("Country of phone numbers without a country code"),
        max_length=2,
        initial="FI",
        help_text=_("Two letters, e.g. FI or SE."),
    )

    def __init__(self, *args, header: list[str], mapping: dict[str, str], samples, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = []
        for index, column in enumerate(header):
            name = f"col_{index}"
            example = ", ".join(value for value in samples[index] if value)[:80]
            self.fields[name] = forms.ChoiceField(
                label=column or _("Column %(n)s") % {"n": index + 1},
                choices=ImportTarget.choices,
                required=False,
                initial=mapping.get(str(index), ""),
                help_text=_("For example: %(values)s") % {"values": example} if example else "",
            )
            self.columns.append(name)
        self.order_fields([*self.columns, "phone_region"])

    def mapping(self) -> dict[str, str]:
        return {name.removeprefix("col_"): self.cleaned_data[name] for name in self.columns}

    def clean_phone_region(self) -> str:
        region = self.cleaned_data["phone_region"].strip().upper()
        if not region.isalpha() or len(region) != 2:
            raise forms.ValidationError(_("Two letters, e.g. FI."))
        return region


class CampaignForm(forms.Form):
    """A new campaign: survey, audience (a segment or a list of contact ids), channel, timing."""

    name = forms.CharField(label=_("Name"), max_length=200)
    survey = forms.ChoiceField(label=_("Survey"))
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    contact_ids = forms.CharField(
        label=_("Or contact ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Contact ids (ct_...) separated by spaces, commas or lines."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    scheduled_for = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty sends as soon as you press Send."),
    )
    reminders = forms.IntegerField(label=_("Reminders"), min_value=0, max_value=3, initial=0)
    reminder_after_days = forms.IntegerField(
        label=_("Remind after (days)"), min_value=1, max_value=60, initial=3
    )

    def __init__(self, *args, surveys=(), segments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].choices = [(s.public_id, s.name) for s in surveys]
        self.fields["segment"].choices = [("", _("None (use the list)"))] + [
            (s.public_id, s.name) for s in segments
        ]

    def clean_contact_ids(self) -> list[str]:
        return [v for v in re.split(r"[\s,;]+", self.cleaned_data["contact_ids"] or "") if v]
