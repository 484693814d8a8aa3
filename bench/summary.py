#!/usr/bin/env python3
# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The README's scale table from benchmark results: every screen's read as
the web client opens it, in seconds, at each size and series given, with
JIT on (PostgreSQL's default) and, for the largest size, with JIT off.

    python3 bench/summary.py bench/results-18.0-100k.json bench/results-18.0.json ...
"""

import json
import sys
from pathlib import Path


def main(paths):
    runs = [json.loads(Path(path).read_text()) for path in paths]
    columns = [f"{run['odoo']}, {run['leads']:,}" for run in runs]
    # every screen measured by any of the runs, in the order they measure them
    names = list(
        dict.fromkeys(
            name
            for run in runs
            for name in run["measures"]["addon"]
            if name.startswith("screen: ") and not name.endswith("[jit off]")
        )
    )
    print(
        "| screen (as it opens) | "
        + " | ".join(f"{column} (s)" for column in columns)
        + " | "
        + " | ".join(f"{column}, JIT off (s)" for column in columns)
        + " |"
    )
    print("| --- |" + " ---: |" * (2 * len(runs)))
    for name in names:
        cells = [
            run["measures"]["addon"].get(name, {}).get("seconds") for run in runs
        ] + [
            run["measures"]["addon"].get(f"{name} [jit off]", {}).get("seconds")
            for run in runs
        ]
        print(
            f"| {name[len('screen: ') :]} | "
            + " | ".join("—" if cell is None else f"{cell:.3f}" for cell in cells)
            + " |"
        )
    print()
    print("| install and writes | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(runs))
    print(
        "| install (history backfill, past forecasts), s | "
        + " | ".join(f"{run['install_seconds']:.0f}" for run in runs)
        + " |"
    )
    print(
        "| install peak RSS, MB | "
        # a run stopped before its install's end recorded no peak (a dash)
        + " | ".join(
            "—"
            if run["install_peak_rss_mb"] is None
            else f"{run['install_peak_rss_mb']:.0f}"
            for run in runs
        )
        + " |"
    )
    for name in (
        "batch stage change of 1,000",
        "100 single stage changes",
        "delete 100 opportunities",
        "100 opportunities to another company",
    ):
        cells = []
        for run in runs:
            if name not in run["measures"]["addon"]:
                # measured since 1.8.4
                cells.append("—")
                continue
            plain, addon = (
                run["measures"]["plain"][name],
                run["measures"]["addon"][name],
            )
            cells.append(
                f"{addon['queries']} q. ({plain['queries']} plain), "
                f"×{addon['seconds'] / plain['seconds']:.2f}"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
