"""The report's charts are plain figure dicts serialised without validation (for speed); plotly's
own validation must accept each one and change nothing, so no property is misspelt, dropped or
coerced on the way to plotly.js."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from pipelines.outputs import report


@pytest.fixture(scope="module")
def sample_figures(sample_warehouse) -> dict[str, dict]:
    with sample_warehouse.connect() as con:
        out = {}
        for quarter in (sample_warehouse.quarters[0], sample_warehouse.quarters[-1]):
            data = report.gather(con, quarter)
            out |= {f"{quarter} {name}": fig for name, fig in report.figures(data).items()}
    return out


def test_every_report_chart_is_a_figure_plotly_validation_leaves_unchanged(sample_figures):
    assert len(sample_figures) == 10
    for name, fig in sample_figures.items():
        validated = go.Figure(fig).to_dict()  # raises on an unknown or invalid property
        assert validated == fig, name


def test_charts_use_the_plotly_white_template_and_the_report_font(sample_figures):
    white = go.Layout(template="plotly_white").to_plotly_json()["template"]
    for name, fig in sample_figures.items():
        assert fig["layout"]["template"] == white, name
        assert "Noto Sans CJK SC" in fig["layout"]["font"]["family"], name
        assert fig["data"] and all(trace["x"] for trace in fig["data"]), name
