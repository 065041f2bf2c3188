"""The workspace folder: one package owns its file names (``files``), where workspaces live (``paths``), its typed
manifest (``manifest``), every read (``folder``) and every write (``writer``), and the rules that keep builds from
destroying anything (``safety``)."""

from explorer.workspace.files import FORMAT_VERSION, MANIFEST
from explorer.workspace.folder import SavedClustering, SavedFlags, Workspace
from explorer.workspace.manifest import Manifest
from explorer.workspace.paths import data_root, embeddings_cache, list_workspaces, safe_name, workspaces_root
from explorer.workspace.safety import (
                                       build_lock,
                                       building_folder,
                                       check_build_target,
                                       clean_stale_builds,
                                       swap_into_place,
)

__all__ = ["FORMAT_VERSION", "MANIFEST", "Manifest", "SavedClustering", "SavedFlags", "Workspace", "build_lock",
           "building_folder", "check_build_target", "clean_stale_builds", "data_root", "embeddings_cache",
           "list_workspaces", "safe_name", "swap_into_place", "workspaces_root"]
