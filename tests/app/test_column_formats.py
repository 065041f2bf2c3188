"""Every number format given to a table column is one Streamlit can print (a bad one shows a sprintf error in each
cell: `format="%.0%"` once did on the Label audit page)."""

import ast
import re

from ..conftest import ROOT

NAMED = {"plain", "localized", "percent", "dollar", "euro", "yen", "accounting", "compact", "scientific",
         "engineering", "bytes", "duration"}
PRINTF = re.compile(r"^(?:[^%]|%%|%[-+0 #]*\d*(?:\.\d+)?[dfeEgGisux])*$")


def _formats():
    for path in sorted((ROOT / "explorer").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "").endswith("Column"):
                for keyword in node.keywords:
                    if keyword.arg == "format" and isinstance(keyword.value, ast.Constant):
                        yield path.name, keyword.value.value


def test_every_column_format_is_named_or_a_printf_pattern():
    formats = list(_formats())
    assert len(formats) > 10
    bad = [(name, value) for name, value in formats if value not in NAMED and not PRINTF.match(value)]
    assert not bad
    assert not PRINTF.match("%.0%") and PRINTF.match("%.1f%%") and PRINTF.match("%d")
