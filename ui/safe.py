"""User text shown through Streamlit's Markdown (titles, messages, captions) is escaped here, so ids, file names and
typed inputs are shown literally: no links or images fetched, no emphasis, no HTML, no colour directives."""

from __future__ import annotations

import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def md(value: object) -> str:
    """``value`` as text that Markdown renders literally (every ASCII punctuation mark backslash-escaped;
    line breaks become spaces, so a value cannot start a heading, list or table)."""
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
