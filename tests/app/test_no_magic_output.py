"""Streamlit's "magic" writes any bare expression at a script's top level (an ``a if c else b`` included) to the
page; a DeltaGenerator written that way shows its repr and the docs of every st.* method. No page may have one."""

import ast

import pytest
from streamlit.testing.v1 import AppTest

from ..conftest import ROOT

PAGES = sorted((ROOT / "explorer" / "app" / "pages").glob("*.py")) + [ROOT / "explorer" / "app" / "main.py"]
LEAKS = ("DeltaGenerator", "Creator of Delta protobuf", "delta_generator")


def _magic_expressions(tree: ast.Module) -> list[ast.Expr]:
    """Bare expressions that magic would render: top-level statements and the bodies of if/for/while/with/try,
    not function or class bodies; calls, docstrings, awaits and yields are left alone by magic."""
    found, pending = [], list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await, ast.Yield,
                                                                        ast.YieldFrom, ast.Constant)):
            found.append(node)
        for field in ("body", "orelse", "finalbody", "handlers"):
            pending.extend(getattr(node, field, []) or [])
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_no_page_has_a_bare_expression_magic_would_render(page):
    leaks = _magic_expressions(ast.parse(page.read_text()))
    assert not leaks, [f"{page.name}:{node.lineno} {ast.unparse(node)}" for node in leaks]


def test_the_check_finds_the_expression_that_leaked():
    tree = ast.parse("if x:\n    st.warning(m) if t else st.info(m)\nst.write('fine')\n")
    assert [node.lineno for node in _magic_expressions(tree)] == [2]


def _all_text(at: AppTest) -> str:
    return "\n".join(str(element.proto) for element in at._tree if hasattr(element, "proto"))


@pytest.mark.slow
def test_new_workspace_page_shows_ingest_messages_without_streamlit_internals():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page("explorer/app/pages/new_workspace.py").run()
    at.radio(key="source").set_value("Bundled sample (health-news tweets)").run()
    at.number_input(key="chunk_tokens").set_value(16)
    at.number_input(key="chunk_overlap").set_value(4).run()
    assert not at.exception
    assert any("split" in element.value for element in [*at.info, *at.warning])
    text = _all_text(at)
    assert not [leak for leak in LEAKS if leak in text]
    assert not at.get("help_info")
