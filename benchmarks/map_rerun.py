"""Seconds the Map page's script takes to rerun on a saved workspace (what every click, colour change or lasso on
the map waits for on the server), with Streamlit's AppTest: no browser, so only the server's share.

    python benchmarks/map_rerun.py WORKSPACE [--reruns 4] [--repeat 2] [--before GIT_REV] [--json results.json]

Each measurement is a fresh process that opens the page once (the first run reads the workspace into the caches)
and then reruns it ``--reruns`` times; the median rerun is reported. ``--before GIT_REV`` also times the app as it
was at that commit (checked out in a temporary git worktree), alternating with the current code ``--repeat``
times, so that both see the same spells of a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rerun_seconds(code: Path, workspace: Path, reruns: int) -> list[float]:
    """In this process: open the Map page of ``workspace`` with the app at ``code``, then time ``reruns`` reruns."""
    sys.path.insert(0, str(code))
    from streamlit.testing.v1 import AppTest

    from explorer.app.ui.state import WORKSPACE

    page = AppTest.from_file(str(code / "app_pages" / "map.py"), default_timeout=900)
    page.session_state[WORKSPACE] = str(workspace)
    page.run()
    times = []
    for _ in range(reruns):
        clock = time.perf_counter()
        page.run()
        times.append(time.perf_counter() - clock)
        if page.exception:
            raise SystemExit(f"the Map page failed: {page.exception[0].message}")
    return times


def in_fresh_process(code: Path, workspace: Path, reruns: int) -> list[float]:
    env = {**os.environ, "EXPLORER_DATA_DIR": str(workspace.parent.parent), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, __file__, str(workspace), "--worker", str(code), "--reruns", str(reruns)],
                            capture_output=True, text=True, check=True, cwd=code, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path, help="a saved workspace folder (under a data folder's workspaces/)")
    parser.add_argument("--reruns", type=int, default=4, help="reruns timed per process (default 4)")
    parser.add_argument("--repeat", type=int, default=2, help="processes per version, alternating (default 2)")
    parser.add_argument("--before", help="also time the app at this git revision")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    workspace = args.workspace.resolve()
    if args.worker:
        print(json.dumps(rerun_seconds(args.worker, workspace, args.reruns)))
        return
    with tempfile.TemporaryDirectory(prefix="explorer-before-") as folder:
        versions = {"current": ROOT}
        if args.before:
            subprocess.run(["git", "worktree", "add", "--detach", folder, args.before], cwd=ROOT, check=True,
                           capture_output=True)
            versions["before"] = Path(folder)
        try:
            runs: dict[str, list[float]] = {name: [] for name in versions}
            for _ in range(args.repeat):
                for name, code in versions.items():
                    runs[name] += in_fresh_process(code, workspace, args.reruns)
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", folder], cwd=ROOT, check=True)
    report = {"workspace": workspace.name, "before": args.before, "reruns": args.reruns, "repeat": args.repeat,
              **{name: {"median": statistics.median(times), "each": times} for name, times in runs.items()}}
    for name in versions:
        print(f"{name}: median rerun {report[name]['median']:.2f} s; each: "
              f"{', '.join(f'{seconds:.2f}' for seconds in report[name]['each'])}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
