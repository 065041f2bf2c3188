"""Builds never destroy what they were not asked to replace: the target is checked before any work, each build
writes into a hidden folder of its own and swaps it in whole, one build or edit at a time per workspace (a lock
naming its owner), an edit writes only into the build it read, and what killed builds leave behind is cleaned."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from explorer.errors import InputError
from explorer.paths import workspaces_root
from explorer.workspace.files import BUILD_MARK, MANIFEST, named_by_format
from explorer.workspace.files import BUILDING as _BUILDING
from explorer.workspace.files import LOCK_SUFFIX as _LOCK_SUFFIX
from explorer.workspace.files import PROGRESS_SUFFIX as _PROGRESS_SUFFIX

logger = logging.getLogger(__name__)
MAX_NAME_BYTES = 200
"""Longest workspace folder name: file systems allow 255 bytes, and the build's temporary folder adds ~30."""


def check_build_target(out: Path) -> None:
    """Refuse, before any work, a build target whose contents a build would destroy or cannot write.

    A build replaces only a workspace (a folder with a manifest) or an empty folder; an existing file or any
    other folder is the user's and stays untouched.
    """
    out = Path(out)
    if len(out.name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InputError(f"The workspace name is {len(out.name.encode('utf-8'))} bytes long; "
                         f"use at most {MAX_NAME_BYTES}.")
    if not out.name or out.name in (".", ".."):
        raise InputError(f"'{out}' names no folder; give the workspace folder to write, e.g. --out workspaces/mine.")
    blocking = next((parent for parent in out.parents if parent.exists() and not parent.is_dir()), None)
    if blocking is not None:
        raise InputError(f"'{out}' cannot be made: '{blocking}' is a file, not a folder. Choose another output path.")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"'{out}' exists and is not a workspace folder; a build replaces only a workspace. "
                         "Choose another output path, or move it away.")
    if out.is_dir() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise InputError(f"'{out}' exists and is not a workspace (it has no {MANIFEST}); a build replaces only a "
                         "workspace, so nothing was changed. Choose another output path, or move the folder away.")
    inside = next((parent for parent in out.resolve().parents if (parent / MANIFEST).is_file()), None)
    if inside is not None:
        raise InputError(f"'{out}' is inside the workspace '{inside.name}'; a rebuild of that workspace would remove "
                         "it. Choose a folder outside any workspace.")
    if (out / MANIFEST).is_file():
        foreign = sorted(entry.name for entry in out.iterdir() if not named_by_format(entry.name))
        if foreign:
            raise InputError(f"The workspace '{out.name}' also holds {', '.join(foreign[:5])}"
                             + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                             + ", which a rebuild would remove; move them out of the folder first.")


def building_folder(out: Path) -> Path:
    """A new hidden folder beside ``out`` to build into; its name carries this process's id, so a folder left by
    a killed build can be told from a running one (:func:`clean_stale_builds`)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}{_BUILDING}{os.getpid()}-", dir=out.parent))
    (folder / BUILD_MARK).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
                                     encoding="utf-8")
    return folder


def swap_into_place(building: Path, out: Path) -> None:
    """Replace the workspace ``out`` by the freshly built folder; the old one is removed only after the swap.

    Where the system can (Linux's renameat2), the two folders are exchanged in one atomic step: a reader never finds
    the workspace missing, and a crash at any moment leaves one complete workspace in place (the other, in the
    hidden building folder, is cleaned as a stale build)."""
    check_build_target(out)
    if out.exists() and _exchange(building, out):
        shutil.rmtree(building, ignore_errors=True)
        return
    if not out.exists():
        building.rename(out)
        return
    # Where the folders cannot be exchanged: the old workspace moves to a new hidden folder of its own (never one a
    # user may have, which would be deleted), the new one into place, then the old one goes.
    previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
    previous.rmdir()
    out.rename(previous)
    building.rename(out)
    shutil.rmtree(previous, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders atomically (renameat2 with RENAME_EXCHANGE); False where the system offers no such call."""
    import ctypes
    import ctypes.util
    import errno

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_current_folder, rename_exchange = -100, 2
    if libc.renameat2(at_current_folder, os.fsencode(first), at_current_folder, os.fsencode(second),
                      rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM):  # the file system or kernel cannot exchange
        return False
    raise OSError(code, os.strerror(code), str(second))


def clean_stale_builds(root: Path | None = None) -> list[str]:
    """Remove the temporary folders and locks of builds whose process has ended (killed mid-build).

    Returns the names of the workspaces whose unfinished builds were removed.
    """
    root = root or workspaces_root()
    if not root.is_dir():
        return []
    removed = []
    # Only what this tool wrote and can prove it wrote goes: a build folder holding its mark, a lock or progress
    # file whose content is ours; a look-alike name alone (a user's .mydb.lock) is never enough.
    for path in sorted(root.iterdir()):
        kept = re.fullmatch(r"\.(.+)\.previous-\w+", path.name)
        if kept and path.is_dir() and (path / MANIFEST).is_file() and not (root / kept.group(1)).exists():
            # A swap stopped between its two renames: the old workspace is the only complete copy; put it back.
            path.rename(root / kept.group(1))
            logger.warning("put the workspace %s back after a build stopped while swapping it", kept.group(1))
            continue
        match = re.fullmatch(r"\.(.+)\.building-(\d+)-\w+", path.name)
        if match and path.is_dir() and (path / BUILD_MARK).is_file() and not _process_alive(int(match.group(2))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(match.group(1))
        elif (path.name.startswith(".") and path.name.endswith(_LOCK_SUFFIX) and _our_lock(path) is not None
              and _lock_is_stale(path)):
            path.unlink(missing_ok=True)
        elif (path.name.startswith(".") and path.name.endswith(_PROGRESS_SUFFIX) and _our_progress(path)
              and not build_running(path.with_name(path.name[1:-len(_PROGRESS_SUFFIX)]))):
            path.unlink(missing_ok=True)
    if removed:
        logger.warning("removed the unfinished builds of %s", ", ".join(sorted(set(removed))))
    return sorted(set(removed))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _our_lock(lock: Path) -> dict | None:
    """The lock's record when this tool wrote it (an owner, a process id and a host), else None."""
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and {"owner", "pid", "host"} <= set(holder) else None


def _our_progress(path: Path) -> bool:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and {"stage", "fraction"} <= set(record)


def _lock_is_stale(lock: Path) -> bool:
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return holder.get("host") == socket.gethostname() and not _process_alive(int(holder.get("pid", -1)))


@contextmanager
def build_lock(out: Path, owner: str, *, action: str = "built") -> Iterator[None]:
    """Hold ``out``'s lock for the block (builds and edits take the same one); a second build or edit of the same
    workspace meanwhile is refused with who holds it, doing what, and since when. A lock left by a killed process
    is taken over."""
    lock = out.with_name(f".{out.name}{_LOCK_SUFFIX}")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = json.dumps({"owner": owner, "action": action, "pid": os.getpid(), "host": socket.gethostname(),
                         "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "time": time.time()})
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _our_lock(lock) is None and lock.exists():
                raise InputError(f"'{lock}' is in the way and was not written by this tool; move it away to build "
                                 f"or edit '{out.name}'.") from None
            if _lock_is_stale(lock):
                lock.unlink(missing_ok=True)
                continue
            raise InputError(_held_message(out, lock)) from None
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(record)
        break
    else:
        raise InputError(_held_message(out, lock))
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def build_running(out: Path) -> bool:
    """True while a live process holds ``out``'s build lock."""
    lock = out.with_name(f".{out.name}{_LOCK_SUFFIX}")
    return lock.exists() and not _lock_is_stale(lock)


def _held_message(out: Path, lock: Path) -> str:
    try:
        holder = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        holder = {}
    who = holder.get("owner", "another build")
    since = holder.get("started", "an unknown time")
    action = holder.get("action", "built")
    return (f"The workspace '{out.name}' is being {action} right now by {who} (started {since} UTC); wait for it "
            "to finish" + (", or choose another name." if action == "built" else ", then try again."))


@contextmanager
def editing(workspace, owner: str) -> Iterator[Path]:
    """Hold ``workspace``'s lock (the one builds take) while an edit writes into it, and yield its folder; refuse,
    with nothing written, when the folder now holds another build than the one the edit read (a rebuild was swapped
    in since it was opened). Every edit after a build (re-clustering, flags and decisions, the map rebuilt, the 3-D
    layout) writes only inside this block."""
    from explorer.workspace.manifest import Manifest

    with build_lock(workspace.path, f"{owner} (process {os.getpid()})", action="edited"):
        current = Manifest.from_json(json.loads((workspace.path / MANIFEST).read_text(encoding="utf-8")))
        if current.build_id != workspace.build_id:
            raise InputError(f"The workspace '{workspace.path.name}' was built again since it was opened, so this "
                             "change was not saved (it was made on the old build). Open it again and redo it.")
        yield workspace.path
