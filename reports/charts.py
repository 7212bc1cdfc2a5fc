"""Chart builders: plotly figures as plain dicts, each with a table view of the same numbers.

Pure like metric math: no ORM, no request (an import-linter contract keeps `django.db` and
`django.http` out), tested without a database. Pages get the numbers from metrics' selectors, hand
them in here and render the result with `templates/components/chart.html`; `static/js/charts.js`
draws the figure with the plotly.js the plotly package ships.

Rules every builder keeps (docs: shared METRICS.md "Honest reporting"):
- A period or unit whose score is hidden (fewer than 5 answers, or no score) draws nothing: lines
  break there, bands are drawn per run of shown periods and never across a gap, the gap is marked.
- Numbers are rounded once, half away from zero, to the metric's digits; the figure, its hover
  text, the table and the CSV carry the same rounded values.
- Colours come from the Okabe-Ito palette, which stays distinct with the common colour-vision
  deficiencies, and meaning never rests on colour alone: marker symbols, dash styles, bar patterns
  and names in legend, hover and table carry it too.
- User-given labels are escaped before they reach plotly, which renders a few HTML tags in text.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.utils.formats import get_format, localize
from django.utils.translation import gettext as _

from metrics.scores import round_half_away

# Okabe & Ito (2008), "Color Universal Design".
BLUE = "#0072B2"
VERMILLION = "#D55E00"
BLUISH_GREEN = "#009E73"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
REDDISH_PURPLE = "#CC79A7"
YELLOW = "#F0E442"
BLACK = "#000000"
# Neutral ink for counts and "passive" groups: 4.5:1 on white, so bars read as clearly as text.
GREY = "#767676"
MUTED_INK = "#4d4d4d"
GAP_FILL = "#eef0f2"
GRID = "#e1e4e8"
BAND_FILL = "rgba(0, 114, 178, 0.2)"  # BLUE, translucent

# Group styles in order of first appearance: colour, bar pattern. With three groups (NPS
# detractors, passives, promoters) the ends get the two most distinct hues and the middle grey.
_GROUP_STYLES_3 = [(VERMILLION, "/"), (GREY, "."), (BLUE, "")]
_GROUP_STYLES = [
    (BLUE, ""),
    (VERMILLION, "/"),
    (BLUISH_GREEN, "."),
    (ORANGE, "x"),
    (REDDISH_PURPLE, "\\"),
    (SKY_BLUE, "-"),
    (BLACK, "+"),
    (YELLOW, "|"),
]

MIN_SHOWN = 5  # below this many answers a score is hidden (METRICS.md)
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Chart:
    key: str  # unique on a page; element ids and download file names are built from it
    title: str
    caption: str  # one sentence saying what the chart shows (the <figcaption>)
    figure: dict  # {"data": [...], "layout": {...}} and optionally "config" for plotly.js
    columns: list[str]  # the table view's header
    rows: list[list]  # str, int, Decimal (rounded, for display) or None (no value)
    height: int = 320

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(
                f"chart key must be slug-like (letters, digits, - and _): {self.key!r}"
            )
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} does not match the columns {self.columns!r}")

    @property
    def element_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"

    @property
    def csv_text(self) -> str:
        """The table as CSV: the same rows, numbers with a dot, no value as an empty cell."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows([["" if cell is None else cell for cell in row] for row in self.rows])
        return buffer.getvalue()

    @property
    def csv_data_uri(self) -> str:
        # The byte order mark makes spreadsheet programs read the file as UTF-8 (ä, ö, å).
        return "data:text/csv;charset=utf-8," + quote("\ufeff" + self.csv_text, safe="")

    @property
    def csv_filename(self) -> str:
        return f"{self.key}.csv"

    @property
    def png_filename(self) -> str:
        return f"{self.key}.png"


@dataclass(frozen=True)
class TrendPoint:
    start: date
    label: str  # unique within the series: it is the category on the x axis
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    hidden: bool  # fewer than 5 answers: the count is shown, the score is not
    low_precision: bool = False


@dataclass(frozen=True)
class StagePoint:
    label: str
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    hidden: bool
    low_precision: bool = False


@dataclass(frozen=True)
class RankedUnit:
    label: str
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    rank_value: float | None  # None: not ranked (too few answers); listed last, not drawn


# --- numbers and text -------------------------------------------------------------------------


def rounded(value: float | None, digits: int) -> Decimal | None:
    """The display value: half away from zero, with exactly `digits` decimals (12.30, not 12.3)."""
    value = round_half_away(value, digits)
    if value is None:
        return None
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits))


def share(part: int, whole: int, digits: int = 1) -> Decimal | None:
    """`part` as a percentage of `whole`, rounded for display; None when `whole` is 0."""
    return rounded(part / whole * 100, digits) if whole else None


def _text(value: Decimal | int | None) -> str:
    """A number as the table shows it in the active language (12,3 in Finnish); a dash for none."""
    return "–" if value is None else str(localize(value))


def _y(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _plain(label: str) -> str:
    return html.escape(str(label), quote=False)


def _categories(labels: Iterable[str]) -> list[str]:
    """Axis categories from labels: escaped, and made unique, because plotly merges equal
    categories into one (two stages both called "Visit" would otherwise share a point)."""
    seen: dict[str, int] = {}
    categories = []
    for label in labels:
        category = _plain(label)
        seen[category] = seen.get(category, 0) + 1
        if seen[category] > 1:
            category = f"{category} ({seen[category]})"
        categories.append(category)
    return categories


def _separators() -> str | None:
    decimal, thousand = str(get_format("DECIMAL_SEPARATOR")), str(get_format("THOUSAND_SEPARATOR"))
    return decimal + thousand if len(decimal) == 1 and len(thousand) == 1 else None


def _base_layout(height: int) -> dict:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 36, "b": 40},
        "font": {
            "family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
            "size": 13,
            "color": "#1a1a1a",
        },
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom", "font": {"size": 12}},
        "hovermode": "closest",
        "hoverlabel": {"bgcolor": "#ffffff", "font": {"color": "#1a1a1a"}},
    }
    separators = _separators()
    if separators:
        layout["separators"] = separators
    return layout


def _runs(flags: Sequence[bool]) -> list[list[int]]:
    """Index runs of consecutive True values: [T, T, F, T] -> [[0, 1], [3]]."""
    runs: list[list[int]] = []
    for index, flag in enumerate(flags):
        if not flag:
            continue
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _score_range(scale_min: float, scale_max: float) -> list[float]:
    pad = (scale_max - scale_min) * 0.04
    return [scale_min - pad, scale_max + pad]


def _gap_note(n: int) -> str:
    return _("no answers") if n == 0 else _("too few answers")


def _direction(higher_is_better: bool) -> str:
    return _("Higher is better.") if higher_is_better else _("Lower is better.")


def _score_hover(metric_label: str) -> str:
    return (
        "%{x}<br>"
        + _plain(metric_label)
        + " %{customdata[0]}<br>"
        + _("95 %% interval %(low)s to %(high)s")
        % {"low": "%{customdata[1]}", "high": "%{customdata[2]}"}
        + "<br>"
        + _("Answers: %(n)s") % {"n": "%{customdata[3]}"}
        + "%{customdata[4]}<extra></extra>"
    )


@dataclass(frozen=True)
class _Shown:
    """One period's or stage's display values, shared by figure, hover and table."""

    label: str
    n: int
    score: Decimal | None  # None when hidden
    low: Decimal | None
    high: Decimal | None
    low_precision: bool
    note: str

    @property
    def has_band(self) -> bool:
        return self.score is not None and self.low is not None and self.high is not None

    def customdata(self) -> list[str]:
        extra = "<br>" + self.note if self.note else ""
        return [_text(self.score), _text(self.low), _text(self.high), _text(self.n), extra]

    def row(self) -> list:
        return [self.label, self.n, self.score, self.low, self.high, self.note]


def _shown(
    label: str,
    n: int,
    score: float | None,
    low: float | None,
    high: float | None,
    hidden: bool,
    low_precision: bool,
    digits: int,
) -> _Shown:
    if hidden or score is None:
        return _Shown(label, n, None, None, None, False, _gap_note(n))
    precise = not low_precision
    return _Shown(
        label,
        n,
        rounded(score, digits),
        rounded(low, digits),
        rounded(high, digits),
        low_precision,
        "" if precise else _("low precision"),
    )


def _gap_marks(labels: Sequence[str], values: Sequence[_Shown]) -> tuple[list[dict], list[dict]]:
    """Shapes (a light rectangle) and annotations ("too few answers") for each run of gaps."""
    shapes: list[dict] = []
    annotations: list[dict] = []
    for run in _runs([value.score is None for value in values]):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": run[0] - 0.5,  # category positions are their indexes
                "x1": run[-1] + 0.5,
                "y0": 0,
                "y1": 1,
                "fillcolor": GAP_FILL,
                "line": {"width": 0},
                "layer": "below",
                "name": "gap",
            }
        )
        all_empty = all(values[index].n == 0 for index in run)
        annotations.append(
            {
                "xref": "x",
                "yref": "y domain",
                "x": labels[run[len(run) // 2]],
                "y": 0.5,
                "text": _("no answers") if all_empty else _("too few answers"),
                "textangle": -90,
                "showarrow": False,
                "font": {"size": 11, "color": MUTED_INK},
                "name": "gap",
            }
        )
    return shapes, annotations


def _target_marks(target: float | None, digits: int) -> tuple[list[dict], list[dict]]:
    if target is None:
        return [], []
    value = rounded(target, digits)
    shape = {
        "type": "line",
        "xref": "x domain",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": float(value),
        "y1": float(value),
        "line": {"color": BLACK, "width": 1.5, "dash": "dash"},
        "name": "target",
    }
    annotation = {
        "xref": "x domain",
        "yref": "y",
        "x": 1,
        "y": float(value),
        "xanchor": "right",
        "yanchor": "bottom",
        "text": _("Target %(value)s") % {"value": _text(value)},
        "showarrow": False,
        "bgcolor": "rgba(255, 255, 255, 0.85)",
        "font": {"size": 12},
        "name": "target",
    }
    return [shape], [annotation]


def _score_trace(
    labels: list[str], values: Sequence[_Shown], metric_label: str, *, size: int = 8
) -> dict:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": _plain(metric_label),
        "x": labels,
        "y": [_y(value.score) for value in values],
        "connectgaps": False,  # a hidden period breaks the line
        "line": {"color": BLUE, "width": 2},
        "marker": {
            "color": BLUE,
            "size": size,
            "symbol": ["circle-open" if value.low_precision else "circle" for value in values],
            "line": {"color": BLUE, "width": 2},
        },
        "customdata": [value.customdata() for value in values],
        "hovertemplate": _score_hover(metric_label),
        "meta": {"role": "score"},
    }


def _low_precision_trace(labels: list[str], values: Sequence[_Shown], *, size: int = 8) -> dict:
    """The open markers again as their own trace, so the legend says what an open marker means."""
    picked = [index for index, value in enumerate(values) if value.low_precision]
    return {
        "type": "scatter",
        "mode": "markers",
        "name": _("Low precision"),
        "x": [labels[index] for index in picked],
        "y": [_y(values[index].score) for index in picked],
        "marker": {
            "color": BLUE,
            "size": size,
            "symbol": "circle-open",
            "line": {"color": BLUE, "width": 2},
        },
        "hoverinfo": "skip",
        "meta": {"role": "low-precision"},
    }


# "%" followed by a space and a letter reads as a format directive to gettext's tools, so these
# labels are written with "%%" and formatted, which keeps translators' catalogs checkable.
def _interval_low() -> str:
    return _("95 %% interval, low") % {}


def _interval_high() -> str:
    return _("95 %% interval, high") % {}


def _table_columns(first: str, metric_label: str) -> list[str]:
    return [
        first,
        _("Answers (n)"),
        metric_label,
        _interval_low(),
        _interval_high(),
        _("Note"),
    ]


# --- builders ---------------------------------------------------------------------------------


def trend_chart(
    *,
    key: str,
    title: str,
    points: Sequence[TrendPoint],
    target: float | None,
    scale_min: float,
    scale_max: float,
    digits: int,
    metric_label: str,
    higher_is_better: bool = True,
    caption: str | None = None,
    height: int = 360,
) -> Chart:
    """The score per period with its 95 % interval as a band, the target as a dashed line and the
    number of answers as bars in a lower panel; hidden periods are marked gaps."""
    labels = _categories(point.label for point in points)
    values = [
        _shown(p.label, p.n, p.score, p.ci_low, p.ci_high, p.hidden, p.low_precision, digits)
        for p in points
    ]

    data: list[dict] = []
    for run_number, run in enumerate(_runs([value.has_band for value in values])):
        data.append(_band_trace(labels, values, run, first=run_number == 0))
    data.append(_score_trace(labels, values, metric_label))
    if any(value.low_precision for value in values):
        data.append(_low_precision_trace(labels, values))
    data.append(
        {
            "type": "bar",
            "name": _("Answers (n)"),
            "x": labels,
            "y": [value.n for value in values],
            "xaxis": "x2",
            "yaxis": "y2",
            "marker": {
                "color": GREY,
                # Hatched bars: the periods whose score is hidden, not only by a lighter colour.
                "pattern": {
                    "shape": ["/" if value.score is None else "" for value in values],
                    "fillmode": "overlay",
                    "fgcolor": "#ffffff",
                    "size": 6,
                },
            },
            "customdata": [[_text(value.n)] for value in values],
            "hovertemplate": "%{x}<br>"
            + _("Answers: %(n)s") % {"n": "%{customdata[0]}"}
            # plotly's empty <extra> removes the trace name box beside the hover text
            + "<extra></extra>",
            "meta": {"role": "counts"},
        }
    )

    gap_shapes, gap_annotations = _gap_marks(labels, values)
    target_shapes, target_annotations = _target_marks(target, digits)
    layout = _base_layout(height)
    layout.update(
        {
            "xaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "anchor": "y",
                "matches": "x2",
                "showticklabels": False,
                "showgrid": False,
            },
            "xaxis2": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "anchor": "y2",
                "showgrid": False,
                "automargin": True,
            },
            "yaxis": {
                "domain": [0.32, 1],
                "range": _score_range(scale_min, scale_max),
                "title": {"text": _plain(metric_label)},
                "zeroline": False,
                "gridcolor": GRID,
                "automargin": True,
            },
            "yaxis2": {
                "domain": [0, 0.22],
                "rangemode": "tozero",
                "title": {"text": _("Answers")},
                "gridcolor": GRID,
                "automargin": True,
                "fixedrange": True,
            },
            "shapes": gap_shapes + target_shapes,
            "annotations": gap_annotations + target_annotations,
        }
    )
    if caption is None:
        caption = _trend_caption(metric_label, target, digits) + " " + _direction(higher_is_better)
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={"data": data, "layout": layout},
        columns=_table_columns(_("Period"), metric_label),
        rows=[value.row() for value in values],
        height=height,
    )


def _trend_caption(metric_label: str, target: float | None, digits: int) -> str:
    if target is None:
        return _(
            "%(metric)s per period with its 95 %% interval as a band and the number of answers "
            "as bars below; periods with fewer than 5 answers are left as gaps."
        ) % {"metric": metric_label}
    return _(
        "%(metric)s per period with its 95 %% interval as a band, the target %(target)s as a "
        "dashed line and the number of answers as bars below; periods with fewer than 5 answers "
        "are left as gaps."
    ) % {"metric": metric_label, "target": _text(rounded(target, digits))}


def _band_trace(
    labels: list[str], values: Sequence[_Shown], run: list[int], *, first: bool
) -> dict:
    xs = [labels[index] for index in run]
    highs = [_y(values[index].high) for index in run]
    lows = [_y(values[index].low) for index in run]
    trace: dict[str, Any] = {
        "type": "scatter",
        "name": _("95 %% interval") % {},
        "legendgroup": "interval",
        "showlegend": first,
        "hoverinfo": "skip",
        "meta": {"role": "band"},
    }
    if len(run) == 1:
        # A single period has no width to fill: its interval is a thick translucent stroke.
        trace.update(
            {
                "mode": "lines",
                "x": xs * 2,
                "y": [lows[0], highs[0]],
                "line": {"color": BAND_FILL, "width": 10},
            }
        )
    else:
        trace.update(
            {
                "mode": "lines",
                "x": xs + xs[::-1],
                "y": highs + lows[::-1],
                "fill": "toself",
                "fillcolor": BAND_FILL,
                "line": {"color": BAND_FILL, "width": 0},
            }
        )
    return trace


def sparkline(
    *,
    key: str,
    title: str,
    points: Sequence[TrendPoint],
    digits: int,
    metric_label: str | None = None,
    caption: str | None = None,
    height: int = 60,
) -> Chart:
    """A tiny score line without axes, broken where periods are hidden; the last shown period and
    lone periods between gaps get a dot so they stay visible."""
    metric_label = metric_label or _("Score")
    labels = _categories(point.label for point in points)
    values = [
        _shown(p.label, p.n, p.score, p.ci_low, p.ci_high, p.hidden, p.low_precision, digits)
        for p in points
    ]
    shown_runs = _runs([value.score is not None for value in values])
    dotted = {run[0] for run in shown_runs if len(run) == 1}
    if shown_runs:
        dotted.add(shown_runs[-1][-1])
    trace = _score_trace(labels, values, metric_label, size=5)
    trace["line"]["width"] = 1.5
    trace["marker"]["size"] = [5 if index in dotted else 0 for index in range(len(values))]
    trace["marker"]["line"]["width"] = 1.5
    layout = _base_layout(height)
    layout.update(
        {
            "margin": {"l": 4, "r": 4, "t": 4, "b": 4},
            "showlegend": False,
            "hovermode": "x",
            "xaxis": {
                "visible": False,
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "fixedrange": True,
            },
            "yaxis": {"visible": False, "fixedrange": True},
        }
    )
    if caption is None:
        caption = _(
            "%(metric)s over the last %(count)s periods; periods with too few answers are gaps."
        ) % {"metric": metric_label, "count": len(points)}
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={
            "data": [trace],
            "layout": layout,
            "config": {"displayModeBar": False, "responsive": True},
        },
        columns=_table_columns(_("Period"), metric_label),
        rows=[value.row() for value in values],
        height=height,
    )


def distribution_chart(
    *,
    key: str,
    title: str,
    counts: Sequence[tuple[str, int]],
    groups: Sequence[str] | None = None,
    value_label: str | None = None,
    digits: int = 1,
    caption: str | None = None,
    height: int = 300,
) -> Chart:
    """Answers per scale value as bars; `groups` (one name per value, e.g. detractor / passive /
    promoter) colours and patterns the bars and names them in legend, hover and table."""
    if groups is not None and len(groups) != len(counts):
        raise ValueError(f"{len(groups)} groups given for {len(counts)} values")
    value_label = value_label or _("Answer")
    total = sum(count for _label, count in counts)
    labels = _categories(label for label, _count in counts)
    shares = [share(count, total, digits) for _label, count in counts]
    group_of = list(groups) if groups is not None else [""] * len(counts)
    order = list(dict.fromkeys(group_of))
    styles = _GROUP_STYLES_3 if len(order) == 3 else _GROUP_STYLES

    data: list[dict] = []
    for number, group in enumerate(order):
        colour, pattern = styles[number % len(styles)]
        picked = [index for index, name in enumerate(group_of) if name == group]
        hover = "%{x}: " + _("Answers: %(n)s") % {"n": "%{customdata[0]}"} + " (%{customdata[1]} %)"
        if group:
            hover = "%{x} · " + _plain(group) + "<br>" + hover.removeprefix("%{x}: ")
        data.append(
            {
                "type": "bar",
                "name": _plain(group) if group else _("Answers"),
                "x": [labels[index] for index in picked],
                "y": [counts[index][1] for index in picked],
                "marker": {
                    "color": colour,
                    "line": {"color": colour, "width": 1},
                    "pattern": {"shape": pattern, "fillmode": "overlay", "fgcolor": "#ffffff"},
                },
                "customdata": [[_text(counts[index][1]), _text(shares[index])] for index in picked],
                "hovertemplate": hover + "<extra></extra>",
                "meta": {"role": "group", "group": group},
            }
        )
    layout = _base_layout(height)
    layout.update(
        {
            "showlegend": bool(groups),
            # Stacked bars list their legend bottom-up; keep the groups in the order given.
            "legend": {**layout["legend"], "traceorder": "normal"},
            # One trace per group, each value in exactly one: stacking keeps bars full width.
            "barmode": "stack",
            "xaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "title": {"text": _plain(value_label)},
                "showgrid": False,
            },
            "yaxis": {
                "rangemode": "tozero",
                "title": {"text": _("Answers")},
                "gridcolor": GRID,
                "automargin": True,
            },
        }
    )
    columns = [value_label, _("Answers (n)"), _("Share (%)")]
    rows: list[list] = [
        [label, count, shares[index]] for index, (label, count) in enumerate(counts)
    ]
    if groups is not None:
        columns.insert(1, _("Group"))
        for row, group in zip(rows, group_of, strict=True):
            row.insert(1, group)
    if caption is None:
        caption = _("The number of answers for each value, %(total)s answers in all.") % {
            "total": _text(total)
        }
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={"data": data, "layout": layout},
        columns=columns,
        rows=rows,
        height=height,
    )


def funnel_chart(
    *,
    key: str,
    title: str,
    steps: Sequence[tuple[str, int]],
    digits: int = 1,
    caption: str | None = None,
    height: int | None = None,
) -> Chart:
    """Each step's count (sent, delivered, opened, answered) with its share of the first step."""
    first = steps[0][1] if steps else 0
    of_first = [share(count, first, digits) for _label, count in steps]
    of_previous = [None] + [
        share(count, steps[index][1], digits) for index, (_label, count) in enumerate(steps[1:])
    ]
    labels = _categories(label for label, _count in steps)
    texts = [
        _text(count) if percent is None else f"{_text(count)} ({_text(percent)} %)"
        for (_label, count), percent in zip(steps, of_first, strict=True)
    ]
    height = height or 80 + 56 * max(len(steps), 1)
    trace = {
        "type": "funnel",
        "name": _("Count"),
        "y": labels,
        "x": [count for _label, count in steps],
        "text": texts,
        "textinfo": "text",
        "textposition": "auto",
        "marker": {"color": BLUE},
        "connector": {"fillcolor": GAP_FILL, "line": {"width": 0}},
        "customdata": [[text] for text in texts],
        "hovertemplate": "%{y}: %{customdata[0]}<extra></extra>",
        "meta": {"role": "funnel"},
    }
    layout = _base_layout(height)
    layout.update(
        {
            "showlegend": False,
            "margin": {"l": 16, "r": 16, "t": 16, "b": 16},
            "yaxis": {"type": "category", "automargin": True, "fixedrange": True},
            "xaxis": {"visible": False, "fixedrange": True},
        }
    )
    if caption is None:
        caption = _("How many reached each step, as a count and as a share of the first step.")
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={"data": [trace], "layout": layout},
        columns=[
            _("Step"),
            _("Count"),
            _("Share of first step (%)"),
            _("Share of previous step (%)"),
        ],
        rows=[
            [label, count, of_first[index], of_previous[index]]
            for index, (label, count) in enumerate(steps)
        ],
        height=height,
    )


def stage_curve_chart(
    *,
    key: str,
    title: str,
    stages: Sequence[StagePoint],
    target: float | None,
    scale_min: float,
    scale_max: float,
    digits: int,
    metric_label: str,
    higher_is_better: bool = True,
    caption: str | None = None,
    height: int = 320,
) -> Chart:
    """The score of each journey stage in order, the 95 % interval as error bars, the target as a
    dashed line; hidden stages are marked gaps the line does not cross."""
    labels = _categories(stage.label for stage in stages)
    values = [
        _shown(s.label, s.n, s.score, s.ci_low, s.ci_high, s.hidden, s.low_precision, digits)
        for s in stages
    ]
    trace = _score_trace(labels, values, metric_label, size=10)
    trace["error_y"] = {
        "type": "data",
        "symmetric": False,
        # Rounded like the table; a stage without an interval gets no whisker (null).
        "array": [_whisker(value.high, value.score) for value in values],
        "arrayminus": [_whisker(value.score, value.low) for value in values],
        "color": BLUE,
        "thickness": 1.5,
        "width": 6,
    }
    data = [trace]
    if any(value.low_precision for value in values):
        data.append(_low_precision_trace(labels, values, size=10))
    gap_shapes, gap_annotations = _gap_marks(labels, values)
    target_shapes, target_annotations = _target_marks(target, digits)
    layout = _base_layout(height)
    layout.update(
        {
            "xaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": labels,
                "showgrid": False,
                "automargin": True,
            },
            "yaxis": {
                "range": _score_range(scale_min, scale_max),
                "title": {"text": _plain(metric_label)},
                "zeroline": False,
                "gridcolor": GRID,
                "automargin": True,
            },
            "shapes": gap_shapes + target_shapes,
            "annotations": gap_annotations + target_annotations,
        }
    )
    if caption is None:
        caption = (
            _(
                "%(metric)s at each stage of the journey in order, with its 95 %% interval; stages "
                "with fewer than 5 answers are left as gaps."
            )
            % {"metric": metric_label}
            + " "
            + _direction(higher_is_better)
        )
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={"data": data, "layout": layout},
        columns=_table_columns(_("Stage"), metric_label),
        rows=[value.row() for value in values],
        height=height,
    )


def _whisker(upper: Decimal | None, lower: Decimal | None) -> float | None:
    if upper is None or lower is None:
        return None
    return float(upper - lower)


def ranking_chart(
    *,
    key: str,
    title: str,
    units: Sequence[RankedUnit],
    digits: int,
    metric_label: str,
    rank_label: str | None = None,
    scale_min: float | None = None,
    scale_max: float | None = None,
    descending: bool = True,
    caption: str | None = None,
    height: int | None = None,
) -> Chart:
    """Units ordered by `rank_value` (best first; a value that allows for sample size such as the
    lower interval bound, never the raw score), each drawn as a dot with its interval whiskers.
    Units without a rank value are listed last in the table and not drawn."""
    rank_label = rank_label or _("Ranking value")
    ranked = sorted(
        (unit for unit in units if unit.rank_value is not None),
        key=_rank_key(descending),
    )
    unranked = [unit for unit in units if unit.rank_value is None]
    drawn = [(place, unit) for place, unit in enumerate(ranked, 1) if unit.score is not None]

    ys = [f"{place}. {_plain(unit.label)}" for place, unit in drawn]
    scores = [rounded(unit.score, digits) for _place, unit in drawn]
    lows = [rounded(unit.ci_low, digits) for _place, unit in drawn]
    highs = [rounded(unit.ci_high, digits) for _place, unit in drawn]
    trace = {
        "type": "scatter",
        "mode": "markers",
        "name": _plain(metric_label),
        "x": [_y(score) for score in scores],
        "y": ys,
        "marker": {"color": BLUE, "size": 10, "symbol": "circle"},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [_whisker(high, score) for high, score in zip(highs, scores, strict=True)],
            "arrayminus": [_whisker(score, low) for score, low in zip(scores, lows, strict=True)],
            "color": BLUE,
            "thickness": 1.5,
            "width": 5,
        },
        "customdata": [
            [_text(score), _text(low), _text(high), _text(unit.n), ""]
            for score, low, high, (_place, unit) in zip(scores, lows, highs, drawn, strict=True)
        ],
        "hovertemplate": _score_hover(metric_label).replace("%{x}<br>", "%{y}<br>", 1),
        "meta": {"role": "score"},
    }
    height = height or max(160, 70 + 34 * len(drawn))
    layout = _base_layout(height)
    xaxis: dict[str, Any] = {
        "title": {"text": _plain(metric_label)},
        "zeroline": False,
        "gridcolor": GRID,
    }
    if scale_min is not None and scale_max is not None:
        xaxis["range"] = _score_range(scale_min, scale_max)
    layout.update(
        {
            "showlegend": False,
            "margin": {"l": 16, "r": 16, "t": 16, "b": 48},
            "xaxis": xaxis,
            "yaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": ys,
                "autorange": "reversed",  # the first (best) unit at the top
                "automargin": True,
                "fixedrange": True,
            },
        }
    )
    rows: list[list] = [
        [
            place,
            unit.label,
            unit.n,
            rounded(unit.score, digits),
            rounded(unit.ci_low, digits),
            rounded(unit.ci_high, digits),
            rounded(unit.rank_value, digits),
            "",
        ]
        for place, unit in enumerate(ranked, 1)
    ]
    rows += [
        [
            None,
            unit.label,
            unit.n,
            rounded(unit.score, digits),
            rounded(unit.ci_low, digits),
            rounded(unit.ci_high, digits),
            None,
            _("not ranked: too few answers"),
        ]
        for unit in unranked
    ]
    if caption is None:
        caption = _(
            "Units in order of %(rank)s, which allows for how many answers each has, with the "
            "score and its 95 %% interval; units with too few answers are only listed in the "
            "table."
        ) % {"rank": rank_label.lower()}
    return Chart(
        key=key,
        title=title,
        caption=caption,
        figure={"data": [trace], "layout": layout},
        columns=[
            _("Rank"),
            _("Unit"),
            _("Answers (n)"),
            metric_label,
            _interval_low(),
            _interval_high(),
            rank_label,
            _("Note"),
        ],
        rows=rows,
        height=height,
    )


def _rank_key(descending: bool) -> Callable[[RankedUnit], float]:
    sign = -1 if descending else 1
    return lambda unit: sign * unit.rank_value  # type: ignore[operator]  # filtered to numbers
