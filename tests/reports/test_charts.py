"""Chart builders (reports/charts.py) and the chart component, without a database."""

import ast
import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from reports import charts
from reports.charts import (
    Chart,
    RankedUnit,
    StagePoint,
    TrendPoint,
    distribution_chart,
    funnel_chart,
    ranking_chart,
    sparkline,
    stage_curve_chart,
    trend_chart,
)


def point(
    month: int, n: int, score=None, low=None, high=None, *, hidden=False, low_precision=False
):
    return TrendPoint(
        start=date(2025, month, 1),
        label=f"2025-{month:02}",
        n=n,
        score=score,
        ci_low=low,
        ci_high=high,
        hidden=hidden,
        low_precision=low_precision,
    )


# Two runs of shown months around a gap of two hidden months (3 answers, then none).
SERIES = [
    point(1, 40, 30.25, 20.0, 40.0),
    point(2, 25, 31.0, 15.0, 45.0, low_precision=True),
    point(3, 50, 33.0, 25.0, 41.0),
    point(4, 3, hidden=True),
    point(5, 0, hidden=True),
    point(6, 60, 36.0, 30.0, 42.0),
    point(7, 70, 38.0, 32.0, 44.0),
]


def nps_trend(points=SERIES, target=40.0) -> Chart:
    return trend_chart(
        key="nps-trend",
        title="NPS by month",
        points=points,
        target=target,
        scale_min=-100,
        scale_max=100,
        digits=1,
        metric_label="NPS",
    )


def traces(chart: Chart, role: str) -> list[dict]:
    return [trace for trace in chart.figure["data"] if trace.get("meta", {}).get("role") == role]


def all_charts() -> list[Chart]:
    return [
        nps_trend(),
        sparkline(key="spark", title="NPS", points=SERIES, digits=1),
        distribution_chart(
            key="dist",
            title="NPS answers",
            counts=[(str(value), value + 1) for value in range(11)],
            groups=["Detractor"] * 7 + ["Passive"] * 2 + ["Promoter"] * 2,
        ),
        funnel_chart(key="funnel", title="Campaign", steps=[("Sent", 10), ("Answered", 3)]),
        stage_curve_chart(
            key="stages",
            title="By stage",
            stages=[
                StagePoint("Aware", 10, 4.2, 3.9, 4.5, False),
                StagePoint("Buy", 2, None, None, None, True),
                StagePoint("Use", 30, 4.0, 3.8, 4.2, False),
            ],
            target=4.1,
            scale_min=1,
            scale_max=5,
            digits=2,
            metric_label="CSAT mean",
        ),
        ranking_chart(
            key="ranking",
            title="Stores",
            units=[
                RankedUnit("Kamppi", 40, 30.0, 20.0, 40.0, 20.0),
                RankedUnit("Tiny store", 3, None, None, None, None),
                RankedUnit("Itis", 100, 25.0, 22.0, 28.0, 22.0),
            ],
            digits=1,
            metric_label="NPS",
        ),
    ]


# --- trend ------------------------------------------------------------------------------------


def test_interval_band_is_drawn_per_run_of_shown_months_never_across_the_gap():
    bands = traces(nps_trend(), "band")

    assert len(bands) == 2
    assert set(bands[0]["x"]) == {"2025-01", "2025-02", "2025-03"}
    assert set(bands[1]["x"]) == {"2025-06", "2025-07"}
    for band in bands:
        assert not {"2025-04", "2025-05"} & set(band["x"])
        assert band["fill"] == "toself"
    # Upper bounds out, lower bounds back: the polygon of the first run.
    assert bands[0]["y"] == [40.0, 45.0, 41.0, 25.0, 15.0, 20.0]
    assert [band["showlegend"] for band in bands] == [True, False]


def test_month_without_an_interval_breaks_the_band_but_not_the_score():
    points = [point(1, 40, 30.0, 20.0, 40.0), point(2, 40, 31.0), point(3, 40, 32.0, 22.0, 42.0)]
    chart = nps_trend(points)

    bands = traces(chart, "band")
    assert [band["x"] for band in bands] == [["2025-01", "2025-01"], ["2025-03", "2025-03"]]
    assert traces(chart, "score")[0]["y"] == [30.0, 31.0, 32.0]


def test_hidden_months_draw_no_score_but_keep_their_answer_counts():
    chart = nps_trend()
    score = traces(chart, "score")[0]
    counts = traces(chart, "counts")[0]

    assert score["y"] == [30.3, 31.0, 33.0, None, None, 36.0, 38.0]
    assert score["connectgaps"] is False
    assert counts["y"] == [40, 25, 50, 3, 0, 60, 70]
    assert counts["yaxis"] == "y2" and counts["type"] == "bar"
    # Hidden months' bars are hatched, so the gap does not rest on colour.
    assert counts["marker"]["pattern"]["shape"] == ["", "", "", "/", "/", "", ""]


def test_answer_counts_sit_in_their_own_panel_below_the_scores():
    layout = nps_trend().figure["layout"]

    assert layout["yaxis2"]["domain"][1] < layout["yaxis"]["domain"][0]
    assert layout["xaxis"]["matches"] == "x2"
    assert layout["xaxis2"]["categoryarray"] == [p.label for p in SERIES]


def test_target_is_a_labelled_dashed_line():
    layout = nps_trend(target=40).figure["layout"]

    [line] = [shape for shape in layout["shapes"] if shape["name"] == "target"]
    assert line["line"]["dash"] == "dash"
    assert (line["y0"], line["y1"], line["xref"]) == (40.0, 40.0, "x domain")
    [label] = [note for note in layout["annotations"] if note["name"] == "target"]
    assert label["text"] == "Target 40.0"


def test_no_target_draws_no_target_line():
    layout = nps_trend(target=None).figure["layout"]

    assert not [shape for shape in layout["shapes"] if shape["name"] == "target"]
    assert not [note for note in layout["annotations"] if note["name"] == "target"]


def test_gap_is_marked_and_annotated_too_few_answers():
    layout = nps_trend().figure["layout"]

    [note] = [note for note in layout["annotations"] if note["name"] == "gap"]
    assert note["text"] == "too few answers"
    assert note["x"] in {"2025-04", "2025-05"}
    [shade] = [shape for shape in layout["shapes"] if shape["name"] == "gap"]
    assert (shade["x0"], shade["x1"]) == (2.5, 4.5)  # around categories 3 and 4


def test_low_precision_months_get_an_open_marker_explained_in_the_legend():
    chart = nps_trend()

    symbols = traces(chart, "score")[0]["marker"]["symbol"]
    assert symbols[1] == "circle-open"
    assert symbols[0] == "circle"
    [legend] = traces(chart, "low-precision")
    assert legend["x"] == ["2025-02"] and legend["marker"]["symbol"] == "circle-open"


def test_trend_table_lists_every_month_with_rounded_numbers_and_notes():
    chart = nps_trend()

    assert chart.columns == [
        "Period",
        "Answers (n)",
        "NPS",
        "95 % interval, low",
        "95 % interval, high",
        "Note",
    ]
    # 30.25 rounds half away from zero to 30.3, shown with the metric's digits.
    assert chart.rows[0] == ["2025-01", 40, Decimal("30.3"), Decimal("20.0"), Decimal("40.0"), ""]
    assert chart.rows[1][-1] == "low precision"
    assert chart.rows[3] == ["2025-04", 3, None, None, None, "too few answers"]
    assert chart.rows[4] == ["2025-05", 0, None, None, None, "no answers"]


def test_negative_scores_round_half_away_from_zero():
    chart = nps_trend([point(1, 40, -12.25, -20.05, -4.45)])

    assert chart.rows[0][2:5] == [Decimal("-12.3"), Decimal("-20.1"), Decimal("-4.5")]


def test_labels_reach_plotly_escaped_and_the_table_unescaped():
    chart = nps_trend([TrendPoint(date(2025, 1, 1), "<b>Jan</b>", 40, 1.0, 0.0, 2.0, False)])

    assert traces(chart, "score")[0]["x"] == ["&lt;b&gt;Jan&lt;/b&gt;"]
    assert chart.rows[0][0] == "<b>Jan</b>"


def test_finnish_hover_text_uses_a_decimal_comma():
    with translation.override("fi"):
        chart = nps_trend()

    assert traces(chart, "score")[0]["customdata"][0][:3] == ["30,3", "20,0", "40,0"]
    assert chart.figure["layout"]["separators"][0] == ","


# --- sparkline --------------------------------------------------------------------------------


def test_sparkline_is_tiny_without_axes_and_breaks_at_hidden_months():
    chart = sparkline(key="spark", title="NPS", points=SERIES, digits=1)
    layout = chart.figure["layout"]
    [line] = chart.figure["data"]

    assert chart.height <= 80 and layout["height"] == chart.height
    assert layout["xaxis"]["visible"] is False and layout["yaxis"]["visible"] is False
    assert line["y"][3:5] == [None, None] and line["connectgaps"] is False
    assert line["marker"]["size"][-1] > 0  # the latest month is a dot
    assert chart.rows == nps_trend().rows


def test_sparkline_keeps_a_lone_month_between_gaps_visible():
    points = [point(1, 3, hidden=True), point(2, 40, 30.0, 20.0, 40.0), point(3, 3, hidden=True)]
    [line] = sparkline(key="spark", title="NPS", points=points, digits=1).figure["data"]

    assert line["marker"]["size"][1] > 0


# --- distribution -----------------------------------------------------------------------------


def test_nps_distribution_names_each_group_and_styles_it_beyond_colour():
    chart = all_charts()[2]
    bars = chart.figure["data"]

    assert [bar["name"] for bar in bars] == ["Detractor", "Passive", "Promoter"]
    assert bars[0]["x"] == [str(value) for value in range(7)]
    assert bars[2]["x"] == ["9", "10"]
    assert len({bar["marker"]["color"] for bar in bars}) == 3
    assert len({bar["marker"]["pattern"]["shape"] for bar in bars}) == 3
    assert "Detractor" in bars[0]["hovertemplate"]
    assert chart.columns == ["Answer", "Group", "Answers (n)", "Share (%)"]
    assert chart.rows[0] == ["0", "Detractor", 1, Decimal("1.5")]  # 1 of 66
    assert chart.rows[10] == ["10", "Promoter", 11, Decimal("16.7")]


def test_distribution_without_groups_is_one_series_and_no_group_column():
    chart = distribution_chart(key="csat", title="CSAT", counts=[("1", 0), ("2", 1), ("3", 3)])

    assert len(chart.figure["data"]) == 1
    assert chart.columns == ["Answer", "Answers (n)", "Share (%)"]
    assert chart.rows[0] == ["1", 0, Decimal("0.0")]


def test_distribution_with_no_answers_has_no_shares():
    chart = distribution_chart(key="empty", title="CSAT", counts=[("1", 0), ("2", 0)])

    assert [row[-1] for row in chart.rows] == [None, None]


def test_distribution_refuses_groups_that_do_not_match_the_values():
    with pytest.raises(ValueError):
        distribution_chart(key="bad", title="x", counts=[("1", 1), ("2", 2)], groups=["a"])


# --- funnel -----------------------------------------------------------------------------------


def test_funnel_table_gives_each_steps_share_of_the_first_and_previous_step():
    chart = funnel_chart(
        key="campaign-funnel",
        title="Spring campaign",
        steps=[("Sent", 1000), ("Delivered", 950), ("Opened", 400), ("Answered", 120)],
    )

    assert chart.columns == [
        "Step",
        "Count",
        "Share of first step (%)",
        "Share of previous step (%)",
    ]
    assert chart.rows == [
        ["Sent", 1000, Decimal("100.0"), None],
        ["Delivered", 950, Decimal("95.0"), Decimal("95.0")],
        ["Opened", 400, Decimal("40.0"), Decimal("42.1")],
        ["Answered", 120, Decimal("12.0"), Decimal("30.0")],
    ]
    [funnel] = chart.figure["data"]
    assert funnel["type"] == "funnel"
    assert funnel["x"] == [1000, 950, 400, 120]
    assert funnel["text"][-1] == "120 (12.0 %)"


def test_funnel_with_nothing_sent_shows_counts_without_shares():
    chart = funnel_chart(key="f", title="x", steps=[("Sent", 0), ("Answered", 0)])

    assert chart.rows == [["Sent", 0, None, None], ["Answered", 0, None, None]]


# --- stage curve ------------------------------------------------------------------------------


def test_stage_curve_has_interval_whiskers_and_a_gap_for_a_hidden_stage():
    chart = all_charts()[4]
    [curve] = chart.figure["data"]

    assert curve["x"] == ["Aware", "Buy", "Use"]
    assert curve["y"] == [4.2, None, 4.0]
    assert curve["error_y"]["array"] == [pytest.approx(0.3), None, pytest.approx(0.2)]
    assert curve["error_y"]["arrayminus"] == [pytest.approx(0.3), None, pytest.approx(0.2)]
    notes = [note["text"] for note in chart.figure["layout"]["annotations"]]
    assert "too few answers" in notes and "Target 4.10" in notes
    assert chart.rows[0] == ["Aware", 10, Decimal("4.20"), Decimal("3.90"), Decimal("4.50"), ""]
    assert chart.rows[1][-1] == "too few answers"


# --- ranking ----------------------------------------------------------------------------------


def test_ranking_orders_by_rank_value_and_lists_unranked_units_last_undrawn():
    chart = all_charts()[5]
    [dots] = chart.figure["data"]

    # Itis has the lower score but the higher lower bound: it ranks first.
    assert dots["y"] == ["1. Itis", "2. Kamppi"]
    assert dots["x"] == [25.0, 30.0]
    assert dots["error_x"]["arrayminus"] == [3.0, 10.0]
    assert chart.figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert [row[:2] for row in chart.rows] == [[1, "Itis"], [2, "Kamppi"], [None, "Tiny store"]]
    assert chart.rows[2][-1] == "not ranked: too few answers"


def test_ranking_can_put_the_lowest_rank_value_first():
    chart = ranking_chart(
        key="effort",
        title="Effort",
        units=[RankedUnit("A", 40, 2.0, 1.8, 2.2, 2.2), RankedUnit("B", 40, 2.5, 2.3, 2.7, 2.7)],
        digits=2,
        metric_label="Effort",
        descending=False,
    )

    assert [row[1] for row in chart.rows] == ["A", "B"]


# --- every chart ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fi"])
def test_every_figure_is_plain_json(language):
    with translation.override(language):
        for chart in all_charts():
            text = json.dumps(chart.figure, allow_nan=False)
            assert json.loads(text) == chart.figure


def test_csv_download_holds_exactly_the_table_rows():
    for chart in all_charts():
        parsed = list(csv.reader(io.StringIO(chart.csv_text)))
        assert parsed[0] == chart.columns
        assert parsed[1:] == [
            ["" if cell is None else str(cell) for cell in row] for row in chart.rows
        ]
        assert unquote(chart.csv_data_uri.split(",", 1)[1]) == "\ufeff" + chart.csv_text


def test_chart_keys_must_be_usable_as_element_ids_and_file_names():
    with pytest.raises(ValueError):
        funnel_chart(key="two words", title="x", steps=[("Sent", 1)])
    chart = funnel_chart(key="cmp_8xk2-funnel", title="x", steps=[("Sent", 1)])
    assert (chart.element_id, chart.csv_filename) == (
        "chart-cmp_8xk2-funnel",
        "cmp_8xk2-funnel.csv",
    )


def test_chart_builders_import_no_orm_and_no_request():
    tree = ast.parse(Path(charts.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert not {name for name in imported if name.startswith(("django.db", "django.http"))}


# --- the component ----------------------------------------------------------------------------


def test_chart_component_has_caption_data_block_table_view_and_downloads():
    chart = nps_trend()
    page = render_to_string("components/chart.html", {"chart": chart})

    assert "<figcaption>" in page and chart.caption in page
    assert f'data-chart="{chart.data_id}"' in page
    assert f'<script id="{chart.data_id}" type="application/json">' in page
    assert page.count("<script") == 1  # the data block only: no inline script
    assert '<th scope="col">NPS</th>' in page and '<th scope="row">2025-01</th>' in page
    assert "<summary>Table view" in page
    assert f'href="{chart.csv_data_uri}" download="nps-trend.csv"' in page
    assert 'data-chart-png="chart-nps-trend"' in page and "hidden>Download PNG" in page


def test_compact_chart_keeps_its_table_for_screen_readers_without_downloads():
    chart = all_charts()[1]
    page = render_to_string("components/chart.html", {"chart": chart, "compact": True})

    assert "<table>" in page and "<details" not in page and "Download" not in page


def test_chart_scripts_load_plotly_from_our_static_files_deferred():
    page = render_to_string("components/chart_scripts.html")

    assert '<script src="/static/vendor/plotly/plotly.min.js" defer></script>' in page
    assert '<script src="/static/js/charts.js" defer></script>' in page


def test_two_stages_with_the_same_name_keep_their_own_points():
    chart = stage_curve_chart(
        key="stages",
        title="By stage",
        stages=[
            StagePoint("Visit", 10, 4.0, 3.5, 4.5, False),
            StagePoint("Visit", 12, 3.0, 2.5, 3.5, False),
        ],
        target=None,
        scale_min=1,
        scale_max=5,
        digits=1,
        metric_label="CSAT mean",
    )

    assert chart.figure["data"][0]["x"] == ["Visit", "Visit (2)"]
    assert [row[0] for row in chart.rows] == ["Visit", "Visit"]
