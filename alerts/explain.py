"""An alert's evidence in words, as the alert page, the case page and the alert email say it.

Pure: it reads only the evidence dict the evaluation stored (and the rule's settings when the
rule still exists), so it never queries. Numbers are formatted for the active language.
"""

from decimal import Decimal

from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts.enums import (
    CaseEventKind,
    CaseStatus,
    ContactMethod,
    ContactOutcome,
    NotificationChannel,
    RuleKind,
)
from alerts.evaluation import MIN_BASELINE_ANSWERS


def percent(share) -> str:
    """0.1234 -> "12.3 %" (with the language's decimal mark); a dash for nothing."""
    if share is None:
        return "–"
    return f"{number_format(float(share) * 100, 1)} %"


def p_value_words(p_value) -> str:
    if p_value is None:
        return "–"
    if p_value < 0.0001:
        return "< " + number_format(0.0001, 4)
    return number_format(p_value, 4)


def _number(value, places: int = 0) -> str:
    return "–" if value is None else number_format(value, places)


def answers_in_words(evidence: dict, questions: dict | None = None) -> list[dict]:
    """The matched answers of a response alert: [{"question", "text"}]; `questions` maps
    question keys to their texts when the caller has them."""
    questions = questions or {}
    rows = []
    for answer in evidence.get("answers") or []:
        if "words" in answer:
            text = _("contains %(words)s") % {
                "words": ", ".join(f"“{word}”" for word in answer["words"])
            }
        else:
            text = str(answer.get("value"))
        key = answer.get("question", "")
        rows.append({"question": questions.get(key) or key, "text": text})
    return rows


def evidence_in_words(kind: str, evidence: dict, rule=None, questions=None) -> list[dict]:
    """[{"label", "text"}] explaining why the alert fired (or, for aggregate alerts, what the
    window held); empty when the evidence says nothing. `questions` ({key: text}) words the
    answers of a response alert by their questions instead of their keys."""
    evidence = evidence or {}
    if kind == RuleKind.RESPONSE:
        return [
            {"label": row["question"], "text": row["text"]}
            for row in answers_in_words(evidence, questions)
        ]
    if kind == RuleKind.NEGATIVE_SHARE:
        return _negative_share(evidence, rule)
    if kind == RuleKind.NPS_DROP:
        return _nps_drop(evidence, rule)
    if kind == RuleKind.VOLUME_DROP:
        return _volume_drop(evidence, rule)
    return []


def _alpha_words(rule) -> str:
    if rule is None:
        return ""
    alpha = Decimal(str(rule.alpha)).normalize()
    return " " + _("(the rule fires at p ≤ %(alpha)s)") % {"alpha": number_format(alpha)}


def _baseline_insufficient(evidence: dict) -> list[dict]:
    n = evidence.get("baseline_n")
    if n is None or n >= MIN_BASELINE_ANSWERS:
        return []
    return [
        {
            "label": _("Baseline insufficient"),
            "text": _(
                "Only %(n)s answers in the 28 days before; at least %(min)s are needed to "
                "compare with them."
            )
            % {"n": n, "min": MIN_BASELINE_ANSWERS},
        }
    ]


def _negative_share(evidence: dict, rule) -> list[dict]:
    n = evidence.get("n") or 0
    negatives = evidence.get("negatives") or 0
    rows = [
        {
            "label": _("Answers in the window"),
            "text": ngettext(
                "%(n)s answer, %(negatives)s of them negative",
                "%(n)s answers, %(negatives)s of them negative",
                n,
            )
            % {"n": n, "negatives": negatives},
        },
        {
            "label": _("Share of negative answers"),
            "text": _("%(share)s (95 %% interval %(low)s – %(high)s)")
            % {
                "share": percent(evidence.get("share")),
                "low": percent(evidence.get("ci_low")),
                "high": percent(evidence.get("ci_high")),
            },
        },
    ]
    if evidence.get("reference") is not None:
        if evidence.get("baseline_n"):
            base = _(
                "the 28 days before had %(share)s negative answers of %(n)s, plus the margin"
            ) % {
                "share": percent(
                    (evidence.get("baseline_negatives") or 0) / evidence["baseline_n"]
                ),
                "n": evidence["baseline_n"],
            }
        else:
            base = _("the share set in the rule")
        rows.append(
            {
                "label": _("Reference share"),
                "text": f"{percent(evidence['reference'])} ({base})",
            }
        )
    if "p_value" in evidence:
        rows.append(
            {
                "label": _("p-value"),
                "text": _(
                    "%(p)s: the chance of at least this many negative answers if the true "
                    "share were the reference"
                )
                % {"p": p_value_words(evidence.get("p_value"))}
                + _alpha_words(rule),
            }
        )
    return rows + _baseline_insufficient(evidence)


def _nps_drop(evidence: dict, rule) -> list[dict]:
    rows = [
        {
            "label": _("NPS in the window"),
            "text": _("%(nps)s from %(n)s answers (95 %% interval %(low)s – %(high)s)")
            % {
                "nps": _number(evidence.get("nps"), 1),
                "n": evidence.get("n") or 0,
                "low": _number(evidence.get("ci_low"), 1),
                "high": _number(evidence.get("ci_high"), 1),
            },
        },
        {
            "label": _("NPS of the 28 days before"),
            "text": _("%(nps)s from %(n)s answers")
            % {
                "nps": _number(evidence.get("baseline_nps"), 1),
                "n": evidence.get("baseline_n") or 0,
            },
        },
        {
            "label": _("Drop"),
            "text": _("%(points)s points") % {"points": _number(evidence.get("drop"), 1)},
        },
    ]
    if "p_value" in evidence:
        rows.append(
            {
                "label": _("p-value"),
                "text": p_value_words(evidence.get("p_value")) + _alpha_words(rule),
            }
        )
    return rows + _baseline_insufficient(evidence)


def _volume_drop(evidence: dict, rule) -> list[dict]:
    history = evidence.get("history") or []
    rows = [
        {
            "label": _("Responses in the window"),
            "text": _(
                "%(observed)s, where the same hours of the last weeks had %(expected)s on average"
            )
            % {
                "observed": evidence.get("observed", 0),
                "expected": _number(evidence.get("expected"), 1),
            },
        }
    ]
    if history:
        rows.append(
            {
                "label": _("The same hours, week by week back"),
                "text": ", ".join(str(count) for count in history),
            }
        )
    if "p_value" in evidence:
        rows.append(
            {
                "label": _("p-value"),
                "text": p_value_words(evidence.get("p_value")) + _alpha_words(rule),
            }
        )
    return rows


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def event_in_words(kind: str, data: dict) -> str:
    """What a timeline entry did, in words (its note, `CaseEvent.text`, is shown apart)."""
    data = data or {}
    if kind == CaseEventKind.ASSIGNED:
        if data.get("assignee"):
            return _("Assigned to %(assignee)s") % {"assignee": data["assignee"]}
        return _("Unassigned")
    if kind == CaseEventKind.STATUS:
        return _("From %(old)s to %(new)s") % {
            "old": _label(CaseStatus, data.get("old")),
            "new": _label(CaseStatus, data.get("new")),
        }
    if kind == CaseEventKind.CONTACTED:
        return _("%(method)s: %(outcome)s") % {
            "method": _label(ContactMethod, data.get("method")),
            "outcome": _label(ContactOutcome, data.get("outcome")),
        }
    if kind in (CaseEventKind.NOTIFIED, CaseEventKind.ESCALATED, CaseEventKind.RECOVERY):
        channel = _label(NotificationChannel, data.get("channel"))
        if data.get("to") and data.get("to") != channel:
            return _("%(channel)s to %(to)s") % {"channel": channel, "to": data["to"]}
        return channel
    if kind == CaseEventKind.IMPROVEMENT:
        if data.get("title"):
            return _("Linked to “%(title)s”") % {"title": data["title"]}
        return _("Unlinked from its improvement item")
    return ""


def preview_example_in_words(example: dict) -> dict:
    """One example of a rule preview (`alerts.preview.RulePreview.examples`) as {"when", "text"};
    scopes are internal keys and are left out."""
    when = parse_datetime(str(example.get("submitted_at") or example.get("at") or ""))
    parts = []
    if example.get("value") is not None:
        parts.append(_("answer %(value)s") % {"value": example["value"]})
    if example.get("n") is not None:
        parts.append(ngettext("%(n)s answer", "%(n)s answers", example["n"]) % {"n": example["n"]})
    if example.get("negatives") is not None:
        parts.append(_("%(negatives)s negative") % {"negatives": example["negatives"]})
    if example.get("drop") is not None:
        parts.append(_("NPS down %(drop)s points") % {"drop": _number(example["drop"], 1)})
    if example.get("observed") is not None:
        parts.append(
            _("%(observed)s responses where %(expected)s were usual")
            % {"observed": example["observed"], "expected": _number(example.get("expected"), 1)}
        )
    if example.get("p_value") is not None:
        parts.append(f"p = {p_value_words(example['p_value'])}")
    return {"when": when, "text": ", ".join(parts)}
