"""The house's floors, checked on every run: the import-linter contract of pyproject.toml (layers, circles, only the
app imports Streamlit, pages reach the heavy stages through the cached layer), Streamlit's caches in one module, a
core package of few modules, and test files a person can read."""

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

CORE = ROOT / "explorer"


def test_the_import_contract_holds():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_the_contract_fails_on_an_import_against_the_floors(tmp_path):
    """The contract is not a hope: a copy of the package with one upward import is refused."""
    import shutil

    shutil.copytree(CORE, tmp_path / "explorer", ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    types = tmp_path / "explorer" / "types.py"
    types.write_text(types.read_text() + "\nfrom explorer.build.pipeline import build_workspace  # noqa\n")
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert result.returncode != 0 and "explorer.types -> explorer.build.pipeline" in result.stdout


def test_streamlit_caches_live_only_in_the_cached_layer():
    for path in (CORE / "app").rglob("*.py"):
        if path.name == "cache.py":
            continue
        uses = [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)
                and node.attr in ("cache_data", "cache_resource")]
        assert not uses, path


def test_the_core_package_holds_few_modules_and_the_tests_stay_readable():
    assert len(list(CORE.glob("*.py"))) <= 12
    long = [(path.name, n) for path in (ROOT / "tests").rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 600]
    assert not long


def test_the_readme_is_short_and_its_table_of_the_code_is_the_folder_tree():
    import re

    readme = (ROOT / "README.md").read_text()
    assert len(readme) <= 12_000
    table = readme.split("## The code", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `(\w+)/` \|", table, re.M))
    packages = {path.parent.name for path in CORE.glob("*/__init__.py")}
    assert named == packages
    roots = set(re.findall(r"`(\w+)`", table.split("root modules", 1)[1].split("\n", 1)[0]))
    assert roots == {path.stem for path in CORE.glob("*.py")} - {"__init__", "__main__"}


def test_the_architecture_doc_names_every_module():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    modules = [path.relative_to(CORE) for path in CORE.rglob("*.py")
               if path.name != "__init__.py" and "node_modules" not in path.parts and "pages" not in path.parts
               and path.parent.name != "ui"]
    missing = [str(module) for module in modules if str(module) not in doc and module.name not in doc]
    assert not missing
