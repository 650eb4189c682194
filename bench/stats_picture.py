"""Stats picture: time `render_stats_png` (bot/pictures/stats.py) against the issue's 50 ms a render.

Each run renders a busy member's picture (every day of the 12 weeks graded, all four shades, all grades and
states, a title cut to fit) N times in a row in this process and prints the median and p99 of one render
(draw + PNG encode, bytes out), wall clock and this process's CPU time; three runs. Before that, in
fresh processes, the one-off costs the first /stats after a start pays: importing the renderer (Pillow)
and the first render (loading the font, rasterising each glyph once).

What flatters these figures:
- warm state: Pillow is imported and the fonts and glyphs are cached (lru_cache) before the timed
  renders; the cold first render is printed separately, and in the bot it lands on the first /stats of a
  process;
- a tight loop in an otherwise idle process: no event loop, no other requests, hot CPU caches; in the bot
  the render is synchronous CPU work and should run off the event loop (asyncio.to_thread);
- only the drawing is timed: not the store query for the 12 weeks, nor the upload to Discord or Slack;
- the same picture every time; the cost barely depends on the data (a fixed number of cells, bars and
  labels), but a much longer title or a different Pillow build (no SIMD, older zlib) would differ.

    .venv/bin/python bench/stats_picture.py [--renders 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.model.models import Grade  # noqa: E402
from bot.core.model.stats_picture import StatsPicture, window_start  # noqa: E402

TARGET_MS = 50.0
TODAY = date(2026, 12, 1)

# In the bot the core is loaded long before the first /stats: only the renderer and Pillow are timed.
COLD = """
import time
import bot.core.model.stats_picture, bot.core.texts
t0 = time.perf_counter()
import bot.pictures.stats as stats
t1 = time.perf_counter()
from bench.stats_picture import busy_picture
png = stats.render_stats_png(busy_picture())
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f} {len(png)}")
"""


def busy_picture() -> StatsPicture:
    first = window_start(TODAY)
    span = (TODAY - first).days + 1
    daily = {first + timedelta(days=i): (i * 7) % 31 for i in range(span)}  # 0..30: every shade
    grades = {Grade.AGAIN: 312, Grade.HARD: 540, Grade.GOOD: 2210, Grade.EASY: 701}
    return StatsPicture(
        today=TODAY,
        daily_graded=daily,
        grade_counts=grades,
        cards_new=1180,
        cards_learning=96,
        cards_review=1724,
        title="Stats for " + "a rather long display name " * 4,
    )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cold_start(repeats: int) -> None:
    imports, firsts, size = [], [], 0
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", COLD], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        imports.append(float(out[0]))
        firsts.append(float(out[1]))
        size = int(out[2])
    print(
        f"cold, fresh process x{repeats}: import renderer (Pillow) median {statistics.median(imports):.1f}"
        f" ms, first render median {statistics.median(firsts):.1f} ms; PNG {size:,} bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import PIL

    from bot.pictures.stats import SIZE, render_stats_png

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]}, Pillow {PIL.__version__}, {os.cpu_count()} CPUs, load {load}")
    print(f"picture {SIZE[0]}x{SIZE[1]} px, target <= {TARGET_MS:.0f} ms a render")
    cold_start(5)

    data = busy_picture()
    render_stats_png(data)  # warm-up: fonts loaded
    worst = 0.0
    for run in range(1, args.runs + 1):
        samples, cpu = [], []
        for _ in range(args.renders):
            start, start_cpu = time.perf_counter(), time.process_time()
            render_stats_png(data)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        median, p99 = statistics.median(samples), percentile(samples, 0.99)
        worst = max(worst, p99)
        print(
            f"run {run}: {args.renders} renders, wall median {median:.2f} ms, p99 {p99:.2f} ms,"
            f" max {max(samples):.2f} ms; CPU median {statistics.median(cpu):.2f} ms,"
            f" p99 {percentile(cpu, 0.99):.2f} ms"
        )
    verdict = "met" if worst <= TARGET_MS else "MISSED"
    print(f"target p99 <= {TARGET_MS:.0f} ms: {verdict} (worst p99 {worst:.2f} ms)")


if __name__ == "__main__":
    main()
