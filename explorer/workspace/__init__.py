"""The workspace folder: one package owns its file names (``files``), workspace names and listing (``paths``; the
data folder itself is ``explorer.paths``), its typed manifest (``manifest``), every read (``folder``) and every
write (``writer``), the rules that keep builds from destroying anything (``safety``) and a running build's
progress (``progress``)."""

from explorer.paths import data_root, embeddings_cache, models_cache, workspaces_root
from explorer.workspace.files import FORMAT_VERSION, MANIFEST, shards_folder
from explorer.workspace.folder import SavedClustering, SavedFlags, Workspace
from explorer.workspace.manifest import Manifest
from explorer.workspace.paths import list_workspaces, safe_name
from explorer.workspace.progress import BuildProgress, clear_progress, file_progress, read_progress
from explorer.workspace.safety import (
    build_lock,
    build_running,
    building_folder,
    check_build_target,
    clean_stale_builds,
    editing,
    swap_into_place,
)

__all__ = ["FORMAT_VERSION", "MANIFEST", "BuildProgress", "Manifest", "SavedClustering", "SavedFlags", "Workspace",
           "build_lock", "build_running", "building_folder", "check_build_target",
           "clean_stale_builds", "clear_progress", "editing", "data_root", "embeddings_cache", "models_cache",
           "file_progress", "list_workspaces", "read_progress", "safe_name", "shards_folder", "swap_into_place",
           "workspaces_root"]
