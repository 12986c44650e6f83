"""Plotly charts of the progress report, as HTML fragments without plotly.js.

The report embeds plotly.js once (`plotly_js`) and each chart as a div + script (`to_div`), so the
file works offline. Labels that came from submitters are HTML-escaped because plotly interprets a
subset of HTML in text; escaped, it shows them literally.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.offline
import polars as pl

FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
RISK_COLOURS = {
    "red": ("红色", "#d62728"),
    "orange": ("橙色", "#ff7f0e"),
    "yellow": ("黄色", "#f2c12e"),
    "blue": ("蓝色", "#1f77b4"),
}
UNASSESSED = ("未评定", "#c7c7c7")
TIMELINESS = {
    "on_time": ("按时", "#2ca02c"),
    "late": ("逾期", "#ff7f0e"),
    "missing": ("未报", "#d62728"),
}
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}


def plotly_js() -> str:
    """The plotly.js bundle shipped with plotly.py, to be inlined once per report."""
    return plotly.offline.get_plotlyjs()


def to_div(fig: go.Figure, div_id: str) -> str:
    """A chart as a div and its drawing script; plotly.js must already be on the page."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOT_CONFIG)


def _labels(values: Sequence[object]) -> list[str]:
    return [html.escape(str(v)) for v in values]


def _layout(fig: go.Figure, title: str, *, height: int = 380, percent_y: bool = False) -> go.Figure:
    fig.update_layout(
        title={"text": html.escape(title), "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": FONT, "size": 12},
        template="plotly_white",
        height=height,
        margin={"l": 48, "r": 16, "t": 56, "b": 48},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "right",
            "x": 1,
            "traceorder": "normal",
        },
        hoverlabel={"font": {"family": FONT}},
    )
    if percent_y:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def risk_by_street(frame: pl.DataFrame, title: str) -> go.Figure:
    """Stacked risk colours per 街道 (columns: unit, red, orange, yellow, blue, base)."""
    units = _labels(frame["unit"].to_list())
    fig = go.Figure()
    for key, (label, colour) in RISK_COLOURS.items():
        fig.add_bar(x=units, y=frame[key].to_list(), name=label, marker_color=colour)
    assessed = frame.select(pl.sum_horizontal(*RISK_COLOURS)).to_series()
    rest = (frame["base"] - assessed).clip(lower_bound=0).to_list()
    fig.add_bar(x=units, y=rest, name=UNASSESSED[0], marker_color=UNASSESSED[1])
    fig.update_layout(barmode="stack", yaxis_title="企业数（家）")
    return _layout(fig, title)


def progress_vs_pace(frame: pl.DataFrame, pace: float, title: str) -> go.Figure:
    """Share of each 十百千万 target reached per 街道 against the time pace
    (columns: unit, measure_label, share; measures without a target are left out)."""
    fig = go.Figure()
    for (label,), part in frame.partition_by("measure_label", as_dict=True).items():
        fig.add_bar(
            x=_labels(part["unit"].to_list()),
            y=part["share"].to_list(),
            name=html.escape(str(label)),
            hovertemplate="%{x}：%{y:.0%}<extra>%{fullData.name}</extra>",
        )
    fig.add_hline(
        y=pace,
        line_dash="dash",
        line_color="#444",
        annotation_text=f"时序进度 {pace:.0%}",
        annotation_position="top left",
    )
    top = max([pace, *frame["share"].drop_nulls().to_list()])
    fig.update_layout(barmode="group", yaxis_title="完成目标比例")
    fig = _layout(fig, title, percent_y=True)
    fig.update_yaxes(range=[0, top * 1.08])
    return fig


def closure_trend(frame: pl.DataFrame, title: str) -> go.Figure:
    """Closure rate by quarter, one line per series (columns: quarter, series, rate)."""
    fig = go.Figure()
    for (series,), part in frame.sort("quarter").partition_by("series", as_dict=True).items():
        fig.add_scatter(
            x=part["quarter"].to_list(),
            y=part["rate"].to_list(),
            name=html.escape(str(series)),
            mode="lines+markers",
            hovertemplate="%{x}：%{y:.1%}<extra>%{fullData.name}</extra>",
        )
    fig.update_xaxes(type="category")
    fig.update_layout(yaxis_title="整改率")
    fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, title, percent_y=True)


def timeliness(frame: pl.DataFrame, title: str) -> go.Figure:
    """Returns owed per quarter by outcome (columns: quarter, on_time, late, missing)."""
    fig = go.Figure()
    quarters = frame["quarter"].to_list()
    for key, (label, colour) in TIMELINESS.items():
        fig.add_bar(x=quarters, y=frame[key].to_list(), name=label, marker_color=colour)
    fig.update_xaxes(type="category")
    fig.update_layout(barmode="stack", yaxis_title="应报表数（份）")
    return _layout(fig, title, height=340)
