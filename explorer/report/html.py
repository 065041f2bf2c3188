"""A report as one self-contained HTML file: plotly's JavaScript inlined once, no network needed to open it, and
every user string escaped (it is shown as text, never run)."""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.io as pio

from explorer.report.contents import RULES_SOURCE, Report

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; width: 100%; }
th, td { border: 1px solid #e3e3e3; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f6f6; } table.record th { width: 35%; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.85rem; } .verdict li { margin: 0.3rem 0; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
"""


def report_html(report: Report) -> str:
    """The whole HTML document of ``report``."""
    from plotly.offline import get_plotlyjs

    data = report.data
    title = f"Report: {data['workspace']}"
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class='note'>Made by the embedding explorer {_e(data['provenance']['report_made_by'])} at "
             f"{_e(data['provenance']['report_made_at'])}. Every number here is also in the report's JSON twin."
             + ("" if report.include_texts else " Texts and metadata were left out (<code>--no-texts</code>); "
                "ids and cluster keywords (single words drawn from the texts) are kept.") + "</p>",
             _verdict(data), _provenance(data["provenance"]), _map(report), _similarity(report),
             _quality(data["quality"])]
    if "audit" in data:
        parts.append(_audit(report))
    if "evaluation" in data:
        parts.append(_evaluation(report))
    parts.append("<h2 id='seeds'>Seeds</h2><p>Random parts of this report and of the workspace, and their seeds "
                 "(the same input and settings give the same numbers):</p>" + _pairs_table(data["seeds"]))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_e(title)}</title><style>{STYLE}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _e(value if value is not None else "—")
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, str) for item in value) and max(map(len, value)) > 40:
            return "<br>".join(f"• {_e(item)}" for item in value)  # texts: one a line
        return ", ".join(_format(item) for item in value)
    if isinstance(value, dict):
        return _e(json.dumps(value, ensure_ascii=False))
    return _e(value)


def _cell(value: Any) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f"<td class='number'>{_format(value)}</td>" if number else f"<td class='text'>{_format(value)}</td>"


def _pairs_table(record: dict[str, Any]) -> str:
    """A two-column table of a record, nested records flattened as ``outer · inner``."""
    rows = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix} · {key}" if prefix else str(key), inner)
        else:
            rows.append(f"<tr><th>{_e(prefix)}</th><td class='text'>{_format(value)}</td></tr>")

    walk("", record)
    return "<table class='record'>" + "".join(rows) + "</table>"


def _rows_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class='note'>None.</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{_e(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(column)) for column in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(report: Report, name: str) -> str:
    figure = report.figures[name]
    # A fixed div id per figure, so two reports of the same workspace are byte-identical there.
    div_id = "figure-" + "".join(character if character.isalnum() else "-" for character in name.lower())
    return pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "scrollZoom": True})


def _verdict(data: dict[str, Any]) -> str:
    items = "".join(f"<li><b>{_e(item['topic'])}</b>: {_e(item['sentence'])}</li>" for item in data["verdict"])
    return (f"<h2 id='verdict'>Verdict</h2><ul class='verdict'>{items}</ul>"
            f"<p class='note'>The thresholds in these sentences are {_e(RULES_SOURCE)}.</p>")


def _provenance(provenance: dict[str, Any]) -> str:
    shown = {key: value for key, value in provenance.items() if key not in ("report_made_at", "report_made_by")}
    return ("<h2 id='provenance'>Provenance</h2><p>Where the texts came from, what was dropped, and what made "
            "every vector, layout and cluster.</p>" + _pairs_table(shown))


def _map(report: Report) -> str:
    section = report.data["map"]
    sampled = (f" The map draws a random sample of {section['n_drawn']:,} of the {section['n_points']:,} points "
               f"(seed {section['sample_seed']}); every other figure uses all points." if section["sampled"]
               else "")
    columns = ["cluster", "size", "share", "keywords"] + (["examples"] if report.include_texts else [])
    return ("<h2 id='map'>Map</h2>"
            f"<p>{section['n_clusters']:,} clusters; {section['noise_fraction']:.1%} of the points in none "
            f"(grey).{_e(sampled)}</p>" + _figure(report, "Map")
            + "<h3>Clusters</h3><p class='note'>Biggest first; examples are the texts nearest each cluster's "
              "centre.</p>" + _rows_table(report.data["clusters"], columns))


def _similarity(report: Report) -> str:
    section = report.data["similarity"]
    figures = {key: value for key, value in section.items() if not key.endswith("_sentence")}
    return ("<h2 id='similarity'>Similarity health</h2>"
            f"<p>{_e(section['anisotropy_sentence'])}</p><p>{_e(section['hubness_sentence'])}</p>"
            + _figure(report, "Similarity") + _pairs_table(figures))


def _quality(section: dict[str, Any]) -> str:
    counts = {key: section[key] for key in ("duplicate_threshold", "n_pairs", "n_groups", "points_in_groups",
                                            "duplicate_share", "outlier_k")}
    return ("<h2 id='quality'>Quality</h2><h3>Near-duplicates</h3>" + _pairs_table(counts)
            + "<p class='note'>The largest groups:</p>" + _rows_table(section["largest_groups"])
            + "<h3>Outliers</h3><p class='note'>The most outlying points by the mean rank of three scores (distance "
              "to the nearest neighbours, GLOSH, LOF), with the reasons.</p>"
            + _rows_table(section["top_outliers"]))


def _audit(report: Report) -> str:
    section = report.data["audit"]
    detail = {key: value for key, value in section.items() if key not in ("summary", "misjudged")}
    return ("<h2 id='audit'>Calibration audit</h2>" + _pairs_table(section["summary"]) + _pairs_table(detail)
            + _figure(report, "Calibration: relevant vs irrelevant pairs")
            + _figure(report, "Calibration: precision, recall and F1")
            + ("<h3>Pairs on the wrong side of the threshold (lowest cosine first)</h3>"
               + _rows_table(section["misjudged"]) if "misjudged" in section else ""))


def _evaluation(report: Report) -> str:
    section = report.data["evaluation"]
    detail = {key: value for key, value in section.items() if key not in ("summary", "failures")}
    return ("<h2 id='evaluation'>Retrieval evaluation</h2>" + _pairs_table(section["summary"])
            + _pairs_table(detail) + _figure(report, "Retrieval")
            + f"<h3>Queries that missed a relevant document in the top {section['k']}</h3>"
            + _rows_table(section["failures"]))
