"""The one-way architecture, checked on the parsed imports (not on substrings): the core never reaches the UI, pages
reach the slow parts of the core only through ui/, and Streamlit's caches live in ui/cache.py alone."""

import ast
from pathlib import Path

import pytest

from ..conftest import ROOT

UI_PACKAGES = ("streamlit", "ui", "app_pages")
SLOW_CORE = (
    "explorer.pipeline",
    "explorer.map_building",
    "explorer.recluster",
    "explorer.compare",
    "explorer.layout3d",
    "explorer.reduce",
    "explorer.cluster.cluster_points",
    "explorer.label",
    "explorer.layout_epoch",
    "explorer.spectral",
    "explorer.embed.embed_texts",
    "explorer.quality.find_duplicates",
    "explorer.quality.find_outliers",
    "explorer.quality.save_flags",
    "explorer.search.search",
    "explorer.search.search_view",
    "explorer.search.point_neighbours",
    "explorer.search.place_query",
    "explorer.search.similarity_to_all",
    "explorer.teach.true_neighbours",
)
WHOLE_MODULES = ("explorer.search",)
"""Modules a page may take names from, but not import whole (which would hide which of their functions it calls)."""
"""Modules (and functions) that build, embed, cluster or search the whole corpus: pages call them through ui/."""


def _imports(path: Path) -> list[str]:
    """Every module (and ``module.name`` for from-imports) that ``path`` imports, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _within(name: str, packages) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


@pytest.mark.parametrize("path", sorted((ROOT / "explorer").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_never_imports_the_ui(path):
    assert not [name for name in _imports(path) if _within(name, UI_PACKAGES)]


@pytest.mark.parametrize("path", sorted((ROOT / "app_pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_reach_the_slow_core_only_through_ui(path):
    assert not [name for name in _imports(path) if _within(name, SLOW_CORE) or name in WHOLE_MODULES]


def test_the_import_check_sees_nested_and_aliased_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import streamlit as st\n    from explorer.pipeline import build_workspace as b\n")
    assert {"streamlit", "explorer.pipeline.build_workspace"} <= set(_imports(sample))


def test_streamlit_caches_live_only_in_ui_cache():
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "app_pages").glob("*.py"), ROOT / "app.py"]:
        if path.name == "cache.py":
            continue
        uses = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)
                and node.attr in ("cache_data", "cache_resource")]
        assert not uses, path
