"""User text shown through Streamlit's Markdown (titles, messages, captions) is escaped here, so ids, file names and
typed inputs are shown literally: no links or images fetched, no emphasis, no HTML, no colour directives or icons."""

from __future__ import annotations

import re

_ANYWHERE = re.compile(r"([\\`*_{}\[\]()#!|<>~$:&])")
"""Characters that make Markdown (or Streamlit's additions: ``$`` LaTeX, ``:red[...]`` and ``:icon:``) anywhere."""
_LINE_START = re.compile(r"^(\s*)(\d+)([.)])|^(\s*)([-+=])")
"""List items and setext headings, which only start a line."""
_AUTOLINK = re.compile(r"(?i)(?<=[a-z]):(?=//)|\bwww(?=\.)|@(?=[a-z0-9-]+\.)")
"""What GitHub-flavoured Markdown turns into a link with no brackets at all: ``scheme://``, ``www.`` and e-mail
addresses. A zero-width space is put inside each, so the text reads the same and no link forms."""
_BREAK = "\u200b"


def md(value: object) -> str:
    """``value`` as text that Markdown renders literally; line breaks become spaces, so nothing can start a block
    (heading, list, table) except at the very start, which is escaped too."""
    text = " ".join(str(value).splitlines())
    text = _AUTOLINK.sub(lambda found: found[0] + _BREAK, text)
    text = _ANYWHERE.sub(r"\\\1", text)
    return _LINE_START.sub(lambda found: (f"{found[1]}{found[2]}\\{found[3]}" if found[2]
                                          else f"{found[4]}\\{found[5]}"), text, count=1)
