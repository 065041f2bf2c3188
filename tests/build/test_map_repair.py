"""A workspace whose map is missing or broken: the problem in a sentence, and the map built again."""

import shutil

import numpy as np
import pytest

from explorer.build.map_repair import layout_problem, rebuild_map
from explorer.workspace import Workspace


@pytest.fixture
def copied(small_workspace, tmp_path):
    shutil.copytree(small_workspace.path, tmp_path / "copy")
    return Workspace.open(tmp_path / "copy")


def test_a_sound_map_has_no_problem(small_workspace):
    assert layout_problem(small_workspace) is None


def test_each_kind_of_broken_layout_is_named(copied):
    (copied.path / "layout_5d.npy").unlink()
    assert layout_problem(copied) == "The map's 5-D layout (layout_5d.npy) is missing."
    np.save(copied.path / "layout_5d.npy", np.zeros((400, 5), np.float32))
    (copied.path / "layout_2d.npy").write_bytes(b"not an array")
    assert layout_problem(copied).startswith("The map's 2-D layout (layout_2d.npy) cannot be read: ")
    np.save(copied.path / "layout_2d.npy", np.zeros((399, 2), np.float32))
    assert layout_problem(copied) == "The map's 2-D layout (layout_2d.npy) holds (399, 2) values for 400 points in 2-D."
    np.save(copied.path / "layout_2d.npy", np.full((400, 2), np.nan, np.float32))
    assert layout_problem(copied) == "The map's 2-D layout (layout_2d.npy) holds values that are not numbers."


def test_the_map_built_again_is_the_map_the_build_made(small_workspace, copied):
    (copied.path / "layout_2d.npy").unlink()
    (copied.path / "layout_5d.npy").write_bytes(b"broken")
    stages = []
    rebuild_map(copied, progress=lambda stage, fraction, *counts: stages.append(stage))
    assert layout_problem(copied) is None
    np.testing.assert_array_equal(copied.layout(2), small_workspace.layout(2))
    np.testing.assert_array_equal(copied.layout(5), small_workspace.layout(5))
    np.testing.assert_array_equal(copied.clustering().clustering.labels, small_workspace.clustering().clustering.labels)
    assert copied.clustering().keywords.keywords == small_workspace.clustering().keywords.keywords
    assert stages[-1] == "Clustering (HDBSCAN) and labelling"
