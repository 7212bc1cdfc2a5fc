"""A print-ready PDF poster for a survey link: the organization's band, the question, a vector QR
code and the link written out. Pure: no queries, no request.

fpdf2's core fonts only cover windows-1252, and shipping a Unicode font is not worth it for a
poster; text the font cannot show is simplified instead (`_printable`), so rendering never fails.
"""

import unicodedata
from dataclasses import dataclass
from itertools import groupby

import segno
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import PathPaintRule

from distribution.sharing.qr import DARK, QUIET_ZONE, qr_code, qr_colour
from surveys.respond import brand_colour, brand_ink

LANGUAGES = ("fi", "sv", "en")
FONT = "helvetica"
GREY = "#4a4a4a"
PT = 25.4 / 72  # mm per point
LINE = 1.2  # line height as a multiple of the font size
MIN_PT = 6.5  # smaller than this is unreadable at arm's length on paper
MIN_HEADING_PT = 10
# Letters with a stroke have no decomposition, so NFKD alone would turn "Łódź" into "?ódz".
STROKED = str.maketrans("ŁłĐđĦħıŦŧ", "LlDdHhiTt")


@dataclass(frozen=True)
class Format:
    width: float  # mm
    height: float
    margin: float  # mm; office printers cannot print the outer 5-10 mm
    code_share: float  # the code's width as a share of the page width
    band: float  # mm
    heading_pt: float
    body_pt: float
    small_pt: float


FORMATS = {
    "A4": Format(
        210, 297, margin=15, code_share=0.55, band=24, heading_pt=34, body_pt=15, small_pt=11
    ),
    "A5": Format(
        148, 210, margin=12, code_share=0.62, band=16, heading_pt=24, body_pt=11, small_pt=8.5
    ),
}


def poster_pdf(
    *,
    url: str,
    heading: str,
    organization_name: str,
    colour: str,
    size: str = "A4",
    language: str = "en",
    location: str = "",
) -> bytes:
    """A one-page portrait PDF. Raises ValueError for an unknown size or language."""
    if size not in FORMATS:
        raise ValueError(f"Unknown poster size {size!r}; use one of {', '.join(FORMATS)}.")
    if language not in LANGUAGES:
        raise ValueError(f"Unknown poster language {language!r}; use one of {LANGUAGES}.")
    fmt = FORMATS[size]
    with translation.override(language):
        texts = {
            "heading": heading.strip() or _("Tell us how we did"),
            "organization": organization_name,
            "location": location,
            "scan": _("Scan the code with your phone's camera"),
            "minute": _("It takes about a minute."),
            "open": _("Or open:"),
            "thanks": _("Thank you for your feedback!"),
        }

    pdf = FPDF(unit="mm", format=(fmt.width, fmt.height))
    if hasattr(pdf, "core_fonts_encoding"):
        pdf.core_fonts_encoding = "windows-1252"
    pdf.set_margins(fmt.margin, fmt.margin, fmt.margin)
    pdf.set_auto_page_break(False)
    pdf.set_title(texts["heading"])
    pdf.set_lang(language)
    pdf.set_author(organization_name)
    pdf.add_page()
    _draw(pdf, fmt, url=url, colour=colour, texts=texts)
    return bytes(pdf.output())


def _draw(pdf: FPDF, fmt: Format, *, url: str, colour: str, texts: dict[str, str]) -> None:
    body, small = _line_height(fmt.body_pt), _line_height(fmt.small_pt)
    brand = brand_colour(colour)
    pdf.set_fill_color(brand)
    pdf.rect(fmt.margin, fmt.margin, pdf.epw, fmt.band, style="F")
    _line(
        pdf,
        texts["organization"],
        fmt.margin,
        fmt.body_pt * 1.3,
        height=fmt.band,
        style="B",
        colour=brand_ink(brand),
        inset=4,
    )

    # Laid out from the bottom up, so the heading gets whatever height is left over.
    y = pdf.h - fmt.margin - body
    _line(pdf, texts["thanks"], y, fmt.body_pt, style="B")
    if texts["location"].strip():
        y -= small
        _line(pdf, texts["location"], y, fmt.small_pt, colour=GREY)
    y = _link(pdf, fmt, texts["open"], url, bottom=y - 2)

    code = qr_code(url)
    size = pdf.w * fmt.code_share
    module = size / len(code.matrix)
    quiet = max(QUIET_ZONE * module, 3)
    y -= quiet + size
    _code(pdf, code, x=(pdf.w - size) / 2, y=y, module=module, colour=qr_colour(colour))

    y -= quiet + 2 * body
    _line(pdf, texts["scan"], y, fmt.body_pt, colour=GREY)
    _line(pdf, texts["minute"], y + body, fmt.body_pt, colour=GREY)

    top = fmt.margin + fmt.band + 4
    _block(pdf, texts["heading"], y=top, height=y - 3 - top, size=fmt.heading_pt, style="B")


def _code(pdf: FPDF, code: segno.QRCode, *, x: float, y: float, module: float, colour: str) -> None:
    """Dark modules as rectangles of one filled path: separate fills leave hairline seams."""
    with pdf.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
        path.style.fill_color = colour
        for row, modules in enumerate(code.matrix):
            column = 0
            for dark, run in groupby(modules):
                length = len(list(run))
                if dark:
                    path.rectangle(x + column * module, y + row * module, length * module, module)
                column += length


def _link(pdf: FPDF, fmt: Format, label: str, url: str, *, bottom: float) -> float:
    """The label and the URL ending at `bottom`: one line if it stays readable, else up to three.
    Returns the top of the label."""
    url = _printable(pdf, url)
    size = _shrink(pdf, url, pdf.epw, fmt.small_pt, "B")
    lines = _truncate(pdf, _wrap(pdf, url, pdf.epw), 3, pdf.epw)
    y = bottom - len(lines) * _line_height(size)
    pdf.set_text_color(DARK)
    for index, text in enumerate(lines):
        pdf.set_xy(pdf.l_margin, y + index * _line_height(size))
        pdf.cell(pdf.epw, _line_height(size), text, align="C")
    y -= _line_height(fmt.small_pt)
    _line(pdf, label, y, fmt.small_pt, colour=GREY)
    return y


def _line(
    pdf: FPDF,
    text: str,
    y: float,
    size: float,
    *,
    height: float | None = None,
    style: str = "",
    colour: str = DARK,
    inset: float = 0,
) -> None:
    """One centred line, shrunk to fit the width and cut with an ellipsis as a last resort."""
    width = pdf.epw - 2 * inset
    text = _printable(pdf, text)
    size = _shrink(pdf, text, width, size, style)
    pdf.set_text_color(colour)
    pdf.set_xy(pdf.l_margin + inset, y)
    pdf.cell(width, height or _line_height(size), _truncate(pdf, [text], 1, width)[0], align="C")


def _shrink(pdf: FPDF, text: str, width: float, size: float, style: str) -> float:
    """Sets the largest font size up to `size` (down to MIN_PT) at which `text` fits `width`."""
    pdf.set_font(FONT, style, size)
    while pdf.get_string_width(text) > width and size > MIN_PT:
        size = max(size - 0.5, MIN_PT)
        pdf.set_font(FONT, style, size)
    return size


def _block(pdf: FPDF, text: str, *, y: float, height: float, size: float, style: str) -> None:
    """Wrapped, centred text shrunk until it fits `height`, and centred vertically in it."""
    text = _printable(pdf, text)
    while True:
        pdf.set_font(FONT, style, size)
        lines = _wrap(pdf, text, pdf.epw)
        if len(lines) * _line_height(size) <= height or size <= MIN_HEADING_PT:
            break
        size -= 1
    lines = _truncate(pdf, lines, max(int(height // _line_height(size)), 1), pdf.epw)
    y += (height - len(lines) * _line_height(size)) / 2
    pdf.set_text_color(DARK)
    for index, line in enumerate(lines):
        pdf.set_xy(pdf.l_margin, y + index * _line_height(size))
        pdf.cell(pdf.epw, _line_height(size), line, align="C")


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap; only a word wider than the line (a URL) is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if pdf.get_string_width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and pdf.get_string_width(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    return [*lines, current] if current else lines or [""]


def _truncate(pdf: FPDF, lines: list[str], count: int, width: float) -> list[str]:
    """At most `count` lines no wider than `width`, the last one ending in an ellipsis if cut."""
    if len(lines) <= count and all(pdf.get_string_width(line) <= width for line in lines):
        return lines
    lines = lines[:count]
    ellipsis = _printable(pdf, "…")
    last = lines[-1].rstrip()
    while last and pdf.get_string_width(last + ellipsis) > width:
        last = last[:-1]
    return [*lines[:-1], last.rstrip() + ellipsis]


def _line_height(size: float) -> float:
    return size * PT * LINE


def _printable(pdf: FPDF, text: str) -> str:
    """`text` on one line, each character as is if the core font has it, else its ASCII form
    (NFKD without accents), else "?"."""
    encoding = getattr(pdf, "core_fonts_encoding", None) or "latin-1"
    out = []
    for char in " ".join(text.split()):
        if _encodes(char, encoding):
            out.append(char)
            continue
        for part in unicodedata.normalize("NFKD", char.translate(STROKED)):
            if unicodedata.category(part) in ("Mn", "Me", "Cf", "Sk"):
                continue  # accents, zero-width joiners, variation selectors, skin tones
            out.append(part if _encodes(part, encoding) else "?")
    return "".join(out)


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
