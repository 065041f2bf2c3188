"""Saving the quality flags (near-duplicate groups and decisions, outlier scores) into a workspace."""

from __future__ import annotations

import pandas as pd

from explorer.analysis.flags import DuplicatePairs, OutlierScores
from explorer.analysis.quality import flags_table
from explorer.workspace import Workspace, editing
from explorer.workspace.writer import write_flags


def save_flags(folder, texts: list[str], pairs: DuplicatePairs, outliers: OutlierScores,
               drop_rows: set[int] | None = None) -> pd.DataFrame:
    """Compute the flags table and write it into the workspace folder, with the threshold and k it used."""
    table = flags_table(texts, pairs, outliers, drop_rows)
    write_flags(folder, table, threshold=pairs.threshold, k=outliers.k, n_pairs=pairs.n_pairs,
                n_groups=pairs.n_groups)
    return table


def save_decisions(workspace: Workspace, pairs: DuplicatePairs, outliers: OutlierScores, drop_rows: set[int], *,
                   owner: str = "a review of duplicates") -> pd.DataFrame:
    """Save a review's keep/drop decisions (and the outlier scores of the k chosen) as the workspace's flags, under
    its lock and into the build they were made on."""
    with editing(workspace, owner):
        return save_flags(workspace.path, workspace.texts(), pairs, outliers, drop_rows)
