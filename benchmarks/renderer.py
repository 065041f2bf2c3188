"""The map in a real browser at scale (issue 14, item 1): bytes sent, time to the first drawn frame, pan and zoom
redraw, and the Streamlit server's memory, for workspaces of 50k to a million points.

    python benchmarks/renderer.py --data-dir DIR --workspaces t50k scale-250k scale-1m [--json results.json]

Each workspace gets a fresh app server (``streamlit run app.py`` with ``EXPLORER_DATA_DIR=DIR``) and a fresh
headless Chromium from Debian (software WebGL: SwiftShader, no GPU). The page opens, the workspace is picked in the
sidebar, and the clock runs from the pick to the first frame of the map. Up to 100,000 points that is the picked
workspace's plotly map holding its traces and its canvas (polled every 50 ms) plus one animation frame; above, the
WebGL point map's first frame after its points are drawn. Bytes are the websocket frames the browser received in
that time. A pan (the mouse pressed, moved 120 px, released) and a zoom (one wheel step of 100) are each timed from
the input (the move; plotly: the release, as it redraws only then) to the next frame drawn with the new view
(plotly: its redraw event plus one frame; the point map: regl-scatterplot's next ``draw``). The server's memory is
its resident size (VmRSS) once the map is drawn and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
POINT_MAP = "document.querySelector('[data-testid=stBidiComponentIsolated]').shadowRoot.querySelector('.pm-root')"
POINT_MAP_DRAWN = f"""() => {{
  try {{ return !!{POINT_MAP}.dataset.drawn; }} catch (error) {{ return false; }}
}}"""
POINT_MAP_FRAME = f"() => Number({POINT_MAP}.dataset.frameAt) > window.__input"
DRAWN = """name => {
  // The page first shows the workspace open before the pick: only the picked one's map counts.
  const plot = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
    element => element.layout && element.layout.title && String(element.layout.title.text).includes(name));
  if (!plot || !plot._fullData || !plot._fullData.length || !plot.querySelector('canvas')) return false;
  if (!plot.__watched) {
    plot.__watched = true;
    plot.on('plotly_relayout', () => requestAnimationFrame(() => { window.__redrawn = performance.now(); }));
  }
  return true;
}"""


def _memory_mb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def measure(data_dir: Path, workspace: str, port: int, screenshots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    received = [0]
    points = json.loads((data_dir / "workspaces" / workspace / "workspace.json").read_text())["n_points"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("websocket", lambda socket: socket.on(
                "framereceived", lambda frame: received.__setitem__(0, received[0] + len(frame))))
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                    break
                except Exception:  # noqa: BLE001 -- the server is still starting
                    time.sleep(1)
            page.wait_for_selector("text=Map of", timeout=300_000)
            page.get_by_test_id("stSidebar").get_by_role("combobox").first.click()
            received[0] = 0
            started = time.perf_counter()
            page.get_by_role("option", name=workspace).click()
            page.wait_for_selector(f"text=Map of {workspace}", timeout=600_000)
            webgl = points > 100_000
            if webgl:
                page.wait_for_function(POINT_MAP_DRAWN, timeout=600_000, polling=50)
                page.evaluate("() => new Promise(done => requestAnimationFrame(done))")
            else:
                page.wait_for_function(DRAWN, arg=workspace, timeout=600_000, polling=50)
                page.evaluate("() => new Promise(done => requestAnimationFrame(done))")
            first_frame = time.perf_counter() - started
            sent = received[0]
            memory = _memory_mb(server.pid)
            plot = page.locator("[data-testid=stBidiComponentIsolated] .pm-plot" if webgl else ".js-plotly-plot").first
            plot.scroll_into_view_if_needed()
            page.wait_for_timeout(1_000)
            box = plot.bounding_box()
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            redrawn = POINT_MAP_FRAME if webgl else "window.__redrawn !== undefined"
            page.mouse.move(*centre)
            page.mouse.down()
            if webgl:  # the point map redraws as the mouse moves; plotly once it is released
                pan = _timed(page, lambda: page.mouse.move(centre[0] + 120, centre[1] + 60), redrawn)
                page.mouse.up()
            else:
                pan = _timed(page, lambda: (page.mouse.move(centre[0] + 120, centre[1] + 60), page.mouse.up()),
                             redrawn)
            page.wait_for_timeout(1_000)
            zoom = _timed(page, lambda: page.mouse.wheel(0, -100), redrawn)
            if screenshots is not None:
                page.wait_for_timeout(1_000)
                page.screenshot(path=str(screenshots / f"map-{workspace}.png"))
            if webgl:
                drawn_points = int(page.evaluate(f"{POINT_MAP}.dataset.drawn"))
                canvas = page.evaluate(f"{POINT_MAP}.querySelectorAll('canvas').length")
            else:
                canvas = page.evaluate("document.querySelectorAll('.js-plotly-plot canvas').length")
                drawn_points = page.evaluate("""() => document.querySelector('.js-plotly-plot')._fullData
                    .filter(trace => trace.type === 'scattergl')
                    .reduce((sum, trace) => sum + Array.from(trace.x).filter(value => value !== null).length, 0)""")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {"workspace": workspace, "points": points, "renderer": "point map (WebGL)" if webgl else "plotly",
            "drawn_points": drawn_points, "canvases": canvas,
            "first_frame_s": round(first_frame, 1), "bytes_sent": sent,
            "bytes_per_point": round(sent / points, 1), "pan_redraw_s": pan, "zoom_redraw_s": zoom,
            "server_rss_mb": memory.get("VmRSS"), "server_peak_mb": memory.get("VmHWM")}


def _timed(page, gesture, redrawn: str) -> float | None:
    """Seconds from an input gesture to the map's redraw after it (None when no redraw came within 60 s)."""
    page.evaluate("window.__redrawn = undefined; window.__input = performance.now()")
    gesture()
    try:
        page.wait_for_function(redrawn, timeout=60_000, polling=10)
    except Exception:  # noqa: BLE001 -- reported as no redraw
        return None
    if redrawn == POINT_MAP_FRAME:
        return round(page.evaluate(f"(Number({POINT_MAP}.dataset.frameAt) - window.__input) / 1000"), 2)
    return round(page.evaluate("(window.__redrawn - window.__input) / 1000"), 2)


def _medians(runs: list[dict]) -> dict:
    """One workspace's runs summarised: each measured number's median (a redraw that never came counts as none)."""
    import statistics

    summary = dict(runs[0])
    for name, value in runs[0].items():
        if isinstance(value, (int, float)) and name not in ("points", "drawn_points", "canvases"):
            values = [run[name] for run in runs if run[name] is not None]
            summary[name] = round(statistics.median(values), 2) if values else None
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="EXPLORER_DATA_DIR holding the workspaces")
    parser.add_argument("--workspaces", nargs="+", required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--screenshots", type=Path, help="save a screenshot of each map here")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the workspaces, alternating; medians")
    args = parser.parse_args()
    rounds = [[measure(args.data_dir, name, args.port, args.screenshots) for name in args.workspaces]
              for _ in range(args.repeat)]
    results = {"renderer": "up to 100,000 points plotly Scattergl with hover labels (explorer.figures.charts); "
                           "above, the WebGL point map (regl-scatterplot, explorer/app/ui/point_map.py): float32 "
                           "positions, uint16 colours",
               "browser": "Debian Chromium, headless, software WebGL (SwiftShader)", "cores": os.cpu_count(),
               "rounds": args.repeat, "medians": [_medians([runs[position] for runs in rounds])
                                                  for position in range(len(args.workspaces))],
               "runs": rounds}
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
