"""Markdown from the data never reaches a viewer's browser as a link or an image: a workspace whose ids, metadata and
texts are payloads, and payloads typed into the pages; every Markdown-rendered string of every element (bodies,
labels, help texts) is walked and none holds a live image, link or autolink."""

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.app.ui.safe import md
from explorer.app.ui.state import WORKSPACE
from explorer.build.pipeline import build_workspace
from explorer.config import BuildConfig
from explorer.ingest.corpus import IngestConfig
from explorer.workspace import workspaces_root

from ..conftest import PAGES
from .helpers import TIMEOUT

PAYLOADS = ["![x](http://evil.host/p.png)", "[click](http://evil.host/a)", "http://evil.host/raw",
            "www.evil.host", "<img src=http://evil.host/i.png>", "mail@evil.host"]
LIVE = [re.compile(r"(?<!\\)!(?<!\\)\[[^\]]*\]\("), re.compile(r"(?<!\\)\]\((?<!\\)"), re.compile(r"https?://"),
        re.compile(r"\bwww\."), re.compile(r"(?<!\\)<img"), re.compile(r"@evil\.host")]


def _markdown_strings(node):
    """Every string Streamlit renders as Markdown in the element tree below ``node``."""
    proto = getattr(node, "proto", None)
    if proto is not None and hasattr(proto, "ListFields"):
        for field, value in proto.ListFields():
            if field.name in ("body", "label", "help", "placeholder") and isinstance(value, str):
                yield value
    children = getattr(node, "children", None)
    for child in (children.values() if isinstance(children, dict) else children or []):
        yield from _markdown_strings(child)


def _assert_nothing_live(at: AppTest) -> int:
    strings = list(_markdown_strings(at._tree))
    live = [(pattern.pattern, text) for text in strings for pattern in LIVE if pattern.search(text)]
    assert not live
    return len(strings)


@pytest.fixture(scope="module")
def payload_workspace(tweets, tweet_vectors):
    table = tweets.head(400).copy()
    table["tweet_id"] = [f"{PAYLOADS[row % len(PAYLOADS)]} {row}" for row in range(400)]
    table["outlet"] = [PAYLOADS[row % len(PAYLOADS)] for row in range(400)]
    table["text"] = [f"{PAYLOADS[row % len(PAYLOADS)]} {text}" for row, text in enumerate(table["text"])]
    return build_workspace(table, BuildConfig(IngestConfig("text", "tweet_id", ("outlet",))),
                           workspaces_root() / "payloads", source="![s](http://evil.host/s.png).csv",
                           vectors=np.asarray(tweet_vectors.vectors))


def test_the_escaper_breaks_images_links_and_autolinks():
    for payload in PAYLOADS:
        assert not any(pattern.search(md(payload)) for pattern in LIVE), payload
    assert md("plain words") == "plain words"


@pytest.mark.parametrize("page", ["map.py", "quality.py", "labels.py", "similarity.py", "compression.py"])
def test_no_page_renders_a_payload_as_a_link_or_an_image(payload_workspace, page):
    at = AppTest.from_file(str(PAGES / page), default_timeout=TIMEOUT)
    at.session_state[WORKSPACE] = str(payload_workspace.path)
    if page == "map.py":
        at.session_state["colour_by"] = "outlet"
    if page == "labels.py":
        at.session_state["label_column"] = "outlet"
    at.run()
    assert not at.exception
    assert _assert_nothing_live(at) > 3
