"""Ready-made surveys in Finnish, Swedish and English, in the portable format of
surveys.definitions. The wording is ours; the instruments follow docs/METRICS.md.

A survey made from a template is an ordinary draft: the CX manager edits it before publishing.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from surveys.definitions import FORMAT, FORMAT_VERSION

THANK_YOU = {
    "fi": "Kiitos palautteestasi!",
    "sv": "Tack för din feedback!",
    "en": "Thank you for your feedback!",
}
RECOMMEND = {
    "fi": "Kuinka todennäköisesti suosittelisit meitä ystävällesi tai kollegallesi?",
    "sv": "Hur sannolikt är det att du skulle rekommendera oss till en vän eller kollega?",
    "en": "How likely are you to recommend us to a friend or colleague?",
}
LIKELY_LABELS = {
    "fi": {"min": "En lainkaan todennäköisesti", "max": "Erittäin todennäköisesti"},
    "sv": {"min": "Inte alls sannolikt", "max": "Mycket sannolikt"},
    "en": {"min": "Not at all likely", "max": "Extremely likely"},
}


def _text(key: str, texts: dict, condition: dict | None = None) -> dict[str, Any]:
    return {"key": key, "type": "text", "texts": texts, "required": False, "condition": condition}


def _survey(name: str, questions: list[dict], intro: dict | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "languages": ["fi", "sv", "en"],
        "default_language": "fi",
        "intro": intro or {},
        "thank_you": THANK_YOU,
        "questions": questions,
    }


NPS = _survey(
    "NPS",
    [
        {
            "key": "score",
            "type": "nps",
            "texts": RECOMMEND,
            "labels": LIKELY_LABELS,
            "required": True,
        },
        _text(
            "improve",
            {
                "fi": "Mitä meidän pitäisi parantaa?",
                "sv": "Vad borde vi förbättra?",
                "en": "What should we improve?",
            },
            {"question": "score", "op": "lte", "value": 6},
        ),
        _text(
            "better",
            {
                "fi": "Mikä tekisi kokemuksestasi vielä paremman?",
                "sv": "Vad skulle göra din upplevelse ännu bättre?",
                "en": "What would make your experience even better?",
            },
            {"question": "score", "op": "in", "value": [7, 8]},
        ),
        _text(
            "liked",
            {
                "fi": "Mistä pidit eniten?",
                "sv": "Vad tyckte du bäst om?",
                "en": "What did you like most?",
            },
            {"question": "score", "op": "gte", "value": 9},
        ),
    ],
)

CSAT_SERVICE = _survey(
    "CSAT",
    [
        {
            "key": "satisfaction",
            "type": "csat",
            "texts": {
                "fi": "Kuinka tyytyväinen olit saamaasi palveluun?",
                "sv": "Hur nöjd var du med den service du fick?",
                "en": "How satisfied were you with the service you received?",
            },
            "labels": {
                "fi": {"min": "Erittäin tyytymätön", "max": "Erittäin tyytyväinen"},
                "sv": {"min": "Mycket missnöjd", "max": "Mycket nöjd"},
                "en": {"min": "Very dissatisfied", "max": "Very satisfied"},
            },
            "required": True,
        },
        _text(
            "went_wrong",
            {
                "fi": "Mikä meni pieleen tai mikä olisi voinut sujua paremmin?",
                "sv": "Vad gick fel eller kunde ha fungerat bättre?",
                "en": "What went wrong or could have gone better?",
            },
            {"question": "satisfaction", "op": "lte", "value": 3},
        ),
        _text(
            "went_well",
            {
                "fi": "Missä onnistuimme?",
                "sv": "Vad gjorde vi bra?",
                "en": "What did we do well?",
            },
            {"question": "satisfaction", "op": "gte", "value": 4},
        ),
    ],
)

CES_SUPPORT = _survey(
    "CES",
    [
        {
            "key": "effort",
            "type": "ces",
            "texts": {
                "fi": "Asiani hoitaminen kanssanne oli helppoa.",
                "sv": "Det var lätt att få mitt ärende hanterat hos er.",
                "en": "You made it easy for me to handle my issue.",
            },
            "labels": {
                "fi": {"min": "Täysin eri mieltä", "max": "Täysin samaa mieltä"},
                "sv": {"min": "Instämmer inte alls", "max": "Instämmer helt"},
                "en": {"min": "Strongly disagree", "max": "Strongly agree"},
            },
            "required": True,
        },
        {
            "key": "resolved",
            "type": "yes_no",
            "texts": {
                "fi": "Saitko asiasi ratkaistua?",
                "sv": "Blev ditt ärende löst?",
                "en": "Was your issue resolved?",
            },
            "required": False,
        },
        _text(
            "difficult",
            {
                "fi": "Mikä teki asioinnista hankalaa?",
                "sv": "Vad gjorde det svårt?",
                "en": "What made it difficult?",
            },
            {"question": "effort", "op": "lte", "value": 4},
        ),
    ],
)

WOMI = _survey(
    "WOMI",
    [
        {
            "key": "womi",
            "type": "womi",
            "texts": RECOMMEND,
            "texts_secondary": {
                "fi": "Kuinka todennäköisesti kehottaisit muita välttämään asiointia kanssamme?",
                "sv": "Hur sannolikt är det att du skulle avråda andra från att göra affärer med oss?",
                "en": "How likely are you to discourage others from doing business with us?",
            },
            "labels": LIKELY_LABELS,
            "required": True,
        },
        _text(
            "reason",
            {
                "fi": "Mikä on tärkein syy vastauksiisi?",
                "sv": "Vad är det främsta skälet till dina svar?",
                "en": "What is the main reason for your answers?",
            },
        ),
    ],
)

CONTENT_FEEDBACK = _survey(
    "Content feedback",
    [
        {
            "key": "useful",
            "type": "yes_no",
            "texts": {
                "fi": "Oliko tästä sisällöstä sinulle hyötyä?",
                "sv": "Var det här innehållet till nytta för dig?",
                "en": "Was this content useful to you?",
            },
            "required": True,
        },
        _text(
            "missing",
            {
                "fi": "Mitä etsit tai mitä jäit kaipaamaan?",
                "sv": "Vad letade du efter eller saknade du?",
                "en": "What were you looking for, or what was missing?",
            },
            {"question": "useful", "op": "eq", "value": 0},
        ),
        _text(
            "comment",
            {
                "fi": "Miten voisimme parantaa tätä sisältöä?",
                "sv": "Hur kan vi göra innehållet bättre?",
                "en": "How could we make this content better?",
            },
        ),
    ],
)


@dataclass(frozen=True)
class Template:
    key: str
    name: str | Promise
    description: str | Promise
    definition: dict[str, Any]


KIOSK_SMILEY = _survey(
    "Smiley",
    [
        {
            "key": "visit",
            "type": "smiley",
            "texts": {
                "fi": "Miten käyntisi meillä sujui tänään?",
                "sv": "Hur var ditt besök hos oss i dag?",
                "en": "How was your visit today?",
            },
            "required": True,
        },
        _text(
            "better",
            {
                "fi": "Mitä voisimme tehdä paremmin?",
                "sv": "Vad kunde vi göra bättre?",
                "en": "What could we do better?",
            },
            {"question": "visit", "op": "lte", "value": 2},
        ),
    ],
)

TEMPLATES: dict[str, Template] = {
    template.key: template
    for template in (
        Template(
            "nps",
            _("Net Promoter Score"),
            _(
                "Likelihood to recommend (0-10) with a follow-up for detractors, passives and promoters."
            ),
            NPS,
        ),
        Template(
            "csat_service",
            _("Satisfaction after a service event"),
            _("CSAT (1-5) with follow-ups for low and high scores."),
            CSAT_SERVICE,
        ),
        Template(
            "ces_support",
            _("Effort after a support case"),
            _("CES 2.0 (1-7 agreement), whether the issue was resolved, and what made it hard."),
            CES_SUPPORT,
        ),
        Template(
            "womi",
            _("Word of mouth (WOMI)"),
            _("Recommend and discourage (0-10 each) and the reason."),
            WOMI,
        ),
        Template(
            "kiosk_smiley",
            _("Smiley at an exit (kiosk)"),
            _(
                "Four faces from very unhappy to very happy, and what to do better after a sad face."
            ),
            KIOSK_SMILEY,
        ),
        Template(
            "content_feedback",
            _("Content feedback"),
            _("Was this useful (yes / no) and how to make it better."),
            CONTENT_FEEDBACK,
        ),
    )
}
