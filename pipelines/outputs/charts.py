"""Plotly charts of the progress report, as HTML fragments without plotly.js.

The report embeds plotly.js once (`plotly_js`) and each chart as a div + script (`to_div`), so the
file works offline. Labels that came from submitters are HTML-escaped because plotly interprets a
subset of HTML in text; escaped, it shows them literally.

Figures are plain dicts in plotly's JSON schema, serialised without validation: building them as
`go.Figure` and validating every `update_layout` (which deep-copies the template each time) took
most of the report's run time, for the same JSON.
"""

from __future__ import annotations

import html
import json
import pkgutil
from collections.abc import Sequence
from functools import cache
from typing import Any

import plotly.io as pio
import plotly.offline
import polars as pl

Figure = dict[str, Any]
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
RISK_COLOURS = {
    "red": ("红色", "#d62728"),
    "orange": ("橙色", "#ff7f0e"),
    "yellow": ("黄色", "#f2c12e"),
    "blue": ("蓝色", "#1f77b4"),
}
UNASSESSED = ("未评定", "#c7c7c7")
# reporting_status.state → its colour in the timeliness chart (words: calendar.yaml states).
TIMELINESS = {
    "on_time": "#2ca02c",
    "late": "#ff7f0e",
    "sent_back": "#9467bd",
    "missing": "#d62728",
    "not_due": "#c7c7c7",
}
# The toolbar a reader needs: save the chart as a picture, put the axes back. Nothing that
# uploads (plotly's "Share chart" sends the figure to Plotly Cloud: never for government data),
# edits or links out; every word in Chinese (LOCALE).
MODEBAR = ["toImage", "resetScale2d"]
MODEBAR_REMOVED = [
    "zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
    "hoverClosestCartesian", "hoverCompareCartesian", "toggleSpikelines", "toggleHover",
    "sendDataToCloud", "editInChartStudio", "downloadJson", "drawline", "drawopenpath",
    "drawclosedpath", "drawcircle", "drawrect", "eraseshape",
]  # fmt: skip
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "locale": "zh-CN",
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtons": [MODEBAR],
    "modeBarButtonsToRemove": MODEBAR_REMOVED,
    "toImageButtonOptions": {"format": "png", "filename": "图表", "scale": 2},
}
# plotly.js's words a reader can meet with this toolbar (hover titles, notices, double-click
# hints), and its date and number format, in Chinese. Registered as plotly's own locale module.
LOCALE = {
    "moduleType": "locale",
    "name": "zh-CN",
    "dictionary": {
        "Download plot as a PNG": "下载为图片（PNG）",
        "Download plot": "下载图表",
        "Preparing image - this may take a few seconds": "正在生成图片，请稍候",
        "Image download succeeded": "图片已下载",
        "Sorry, there was a problem downloading your image!": "图片下载失败，请重试",
        "Reset axes": "恢复原始比例",
        "Autoscale": "自动调整比例",
        "Reset": "恢复",
        "Double-click to zoom back out": "双击恢复原始比例",
        "Double-click on legend to isolate one trace": "双击图例可只看这一项",
        "Produced with Plotly.js": "",
        "trace": "系列",
    },
    "format": {
        "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        "months": [f"{m}月" for m in range(1, 13)],
        "shortMonths": [f"{m}月" for m in range(1, 13)],
        "date": "%Y-%m-%d",
        "decimal": ".",
        "thousands": ",",
        "grouping": [3],
        "currency": ["¥", ""],
    },
}


@cache
def plotly_js() -> str:
    """The plotly.js bundle shipped with plotly.py, to be inlined once per report (read from
    the package once per process), followed by the Chinese locale, so the file needs nothing
    from the network."""
    register = f"\nPlotly.register({json.dumps(LOCALE, ensure_ascii=False)});"
    return plotly.offline.get_plotlyjs() + register + '\nPlotly.setPlotConfig({locale: "zh-CN"});'


def to_div(fig: Figure, div_id: str) -> str:
    """A chart as a div and its drawing script; plotly.js must already be on the page."""
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        validate=False,
    )


@cache
def _template() -> dict[str, Any]:
    """The plotly_white template, read as plotly.io reads its built-in templates. Validating it
    (go.Layout(template=...)) gives the same content and costs a second per process."""
    return json.loads(
        pkgutil.get_data("plotly", "package_data/templates/plotly_white.json") or "{}"
    )


def _labels(values: Sequence[object]) -> list[str]:
    return [html.escape(str(v)) for v in values]


def _figure(
    traces: list[dict[str, Any]],
    title: str,
    *,
    height: int = 380,
    percent_y: bool = False,
    **layout: Any,
) -> Figure:
    """A figure with the report's common layout: left-aligned title, CJK font, plotly_white,
    horizontal legend top right. `layout` (barmode, axes, shapes …) comes first, as set."""
    if percent_y:
        layout["yaxis"] = {**layout.get("yaxis", {}), "tickformat": ".0%", "rangemode": "tozero"}
    return {
        "data": traces,
        "layout": {
            "template": _template(),
            **layout,
            "title": {"font": {"size": 16}, "text": html.escape(title), "x": 0, "xanchor": "left"},
            "font": {"family": FONT, "size": 12},
            "margin": {"l": 48, "r": 16, "t": 56, "b": 48},
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "xanchor": "right",
                "x": 1,
                "traceorder": "normal",
            },
            "hoverlabel": {"font": {"family": FONT}},
            "height": height,
        },
    }


def _bar(x: list[Any], y: list[Any], name: str, colour: str, unit: str) -> dict[str, Any]:
    return {
        "hovertemplate": f"%{{x}}：%{{y}} {unit}<extra>%{{fullData.name}}</extra>",
        "marker": {"color": colour},
        "name": name,
        "x": x,
        "y": y,
        "type": "bar",
    }


def risk_by_street(frame: pl.DataFrame, title: str) -> Figure:
    """Stacked risk colours per 街道 (columns: unit, red, orange, yellow, blue, base)."""
    units = _labels(frame["unit"].to_list())
    traces = [
        _bar(units, frame[key].to_list(), label, colour, "家")
        for key, (label, colour) in RISK_COLOURS.items()
    ]
    assessed = frame.select(pl.sum_horizontal(*RISK_COLOURS)).to_series()
    rest = (frame["base"] - assessed).clip(lower_bound=0).to_list()
    traces.append(_bar(units, rest, *UNASSESSED, "家"))
    return _figure(traces, title, barmode="stack", yaxis={"title": {"text": "企业数（家）"}})


def progress_vs_pace(frame: pl.DataFrame, pace: float, title: str) -> Figure:
    """Share of each 十百千万 target reached per 街道 against the time pace
    (columns: unit, measure_label, share; measures without a target are left out)."""
    traces = [
        {
            "hovertemplate": "%{x}：%{y:.0%}<extra>%{fullData.name}</extra>",
            "name": html.escape(str(label)),
            "x": _labels(part["unit"].to_list()),
            "y": part["share"].to_list(),
            "type": "bar",
        }
        for (label,), part in frame.partition_by("measure_label", as_dict=True).items()
    ]
    # The dashed pace line and its label, as plotly's add_hline draws them.
    pace_line = {
        "line": {"color": "#444", "dash": "dash"},
        "type": "line",
        **{"x0": 0, "x1": 1, "xref": "x domain", "y0": pace, "y1": pace, "yref": "y"},
    }
    pace_label = {
        "showarrow": False,
        "text": f"时序进度 {pace:.0%}",
        **{"x": 0, "xanchor": "left", "xref": "x domain", "y": pace, "yanchor": "bottom"},
        "yref": "y",
    }
    top = max([pace, *frame["share"].drop_nulls().to_list()])
    units = _labels(frame["unit"].unique(maintain_order=True).to_list())
    return _figure(
        traces,
        title,
        percent_y=True,
        shapes=[pace_line],
        annotations=[pace_label],
        barmode="group",
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": units},
        yaxis={
            "title": {"text": "完成目标比例"},
            "tickformat": ".0%",
            "rangemode": "tozero",
            "range": [0, top * 1.08],
        },
    )


def closure_trend(frame: pl.DataFrame, title: str) -> Figure:
    """Closure rate by quarter, one line per series (columns: quarter, series, rate)."""
    traces = [
        {
            "hovertemplate": "%{x}：%{y:.1%}<extra>%{fullData.name}</extra>",
            "mode": "lines+markers",
            "name": html.escape(str(series)),
            "x": part["quarter"].to_list(),
            "y": part["rate"].to_list(),
            "type": "scatter",
        }
        for (series,), part in frame.sort("quarter").partition_by("series", as_dict=True).items()
    ]
    return _figure(
        traces,
        title,
        percent_y=True,
        xaxis={"type": "category"},
        yaxis={"title": {"text": "整改率"}, "range": [0, 1.05]},
    )


def timeliness(frame: pl.DataFrame, title: str, words: dict[str, str]) -> Figure:
    """Returns owed per quarter by collection-window state (columns: quarter and one per
    TIMELINESS state); `words` names the states. States no quarter has are left out."""
    quarters = frame["quarter"].to_list()
    traces = [
        _bar(quarters, frame[key].to_list(), words[key], colour, "份")
        for key, colour in TIMELINESS.items()
        if frame[key].sum()
    ]
    return _figure(
        traces,
        title,
        height=340,
        xaxis={"type": "category"},
        barmode="stack",
        yaxis={"title": {"text": "应报表数（份）"}},
    )
