#!/usr/bin/env python3
# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark sales_funnel_pl against plain Odoo CRM on identical data.

    python3 bench/benchmark.py [--leads 100000] [--keep] [--repeat 5] [--measure-only]

Runs on the Odoo of the Python that runs it (18.0 or 19.0): run it with each
series' Python for both tables.

1. Creates a throw-away database with `crm` and fills it, in SQL, with N
   opportunities spread over Odoo's default stages, each with about 10 stage
   changes (every fourth one skipping a stage) recorded the way Odoo records
   them: chatter messages with a `stage_id` tracking value.
2. Copies it twice (PostgreSQL template, so the data are identical): one stays
   plain CRM, the addon is installed into the other (history backfill
   included), timed, with the install's peak memory (RSS) measured; then
   the value changes the addon records and the skipped stages of one
   opportunity in ten moved through the funnel (bench/populate.py) are added
   to it, as after ten years of use.
3. In each database, in the same run, measures SQL query counts and wall time
   of: creating 1,000 opportunities, a batch stage change of 1,000, 100 single
   stage changes as a user makes them, deleting the 100 oldest opportunities,
   moving 100 to another company, the funnel read (pipeline pivot by
   stage), the forecast read and, with the addon, the stage analytics read
   and the funnel board read (as it opens, on twelve months, and its "now"
   reading; crm's nearest grouped reads in plain CRM).
   Both databases are vacuumed and analysed first (as autovacuum keeps a live
   one). Every measurement runs --repeat times (5) and is rolled back each
   time, so each run starts from the same data; the table gives the median
   time, the JSON every run. --keep keeps the databases, --measure-only
   measures kept ones again (install figures from the JSON of that run).
4. Prints a table with the ratios to plain CRM and writes it as JSON.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARK = "@@BENCH@@"
sys.path.insert(0, str(REPO / "tests"))
from odoo_cli import (  # noqa: E402  (the tests' helpers, one addons path)
    SERIES,
    USER_GROUPS_FIELD,
    WITHOUT_DEMO,
    addons_path,
)

# the addon's compat module, loaded by its path (plain CRM has no addon)
COMPAT = REPO / "sales_funnel_pl" / "compat.py"
SCREENS = REPO / "bench" / "screens.py"
POPULATE_MODULE = REPO / "bench" / "populate.py"


def run_odoo(db, *args, command="server", stdin=None, log_level="warn", log=None):
    """Runs Odoo on ``db``; its log goes to ``log`` (a path) when given."""
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        command,
        f"--addons-path={addons_path()}",
        "-d",
        db,
        f"--log-level={log_level}",
        "--no-http",
        "--max-cron-threads=0",
        *args,
    ]
    if log:
        with open(log, "w") as stderr:
            result = subprocess.run(
                cmd, input=stdin, stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        error = Path(log).read_text()[-4000:] if result.returncode else ""
    else:
        result = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, check=False
        )
        error = result.stderr[-4000:]
    if result.returncode:
        sys.exit(f"odoo {' '.join(args)} failed:\n{error}")
    return result.stdout


def install_addon(db, log):
    """Installs the addon into ``db`` as an admin does from the Apps menu
    (history backfill included): the time, the peak memory (RSS) of that
    process alone, and the addon's progress lines from its log."""
    print(f"installing sales_funnel_pl into {db} (log: {log})...", flush=True)
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        f"--addons-path={addons_path()}",
        "-d",
        db,
        "--log-level=info",
        "--no-http",
        "--max-cron-threads=0",
        "-i",
        "sales_funnel_pl",
        *WITHOUT_DEMO,
        "--stop-after-init",
    ]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"installing the addon failed, see {log}")
    lines = [
        line.split(" sales_funnel_pl: ", 1)[1]
        for line in Path(log).read_text().splitlines()
        if " sales_funnel_pl: " in line
    ]
    return {
        "seconds": round(seconds, 1),
        # ru_maxrss: kilobytes on Linux
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "progress_lines": len(lines),
        "log": lines,
    }


def shell(db, code):
    out = run_odoo(
        db,
        command="shell",
        stdin=(
            "import json, time\n"
            f"def emit(value): print({MARK!r} + json.dumps(value))\n{code}\n"
        ),
    )
    return [
        json.loads(line[len(MARK) :])
        for line in out.splitlines()
        if line.startswith(MARK)
    ]


POPULATE = """
import importlib.util
spec = importlib.util.spec_from_file_location("sales_funnel_pl_populate", {populate!r})
populate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(populate)
env.cr.execute(
    "SELECT id FROM crm_stage WHERE NOT COALESCE(is_won, false) ORDER BY sequence, id"
)
stage_ids = [row[0] for row in env.cr.fetchall()]
env.cr.execute("SELECT id FROM crm_stage WHERE is_won ORDER BY sequence, id LIMIT 1")
won_stage = env.cr.fetchone()[0]
team = env.ref("sales_team.team_sales_department")
users = env["res.users"].create([
    {{"name": f"Handlowiec {{i}}", "login": f"bench_user_{{i}}",
      "{groups}": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])]}}
    for i in range(20)
])
# ten years of sales (bench/populate.py)
counts = populate.populate(
    env, {n}, [(user.id, team.id) for user in users], stage_ids, won_stage
)
env.cr.commit()
emit(dict(counts, users=users.ids))
"""

# what the addon records once installed, as after ten years of use
# (bench/populate.py: ``populate_<what>``), in the addon's database only:
# the opportunities' value changes, the skipped stages of those moved
# through the funnel
RECORDED = """
import importlib.util
spec = importlib.util.spec_from_file_location("sales_funnel_pl_populate", {populate!r})
populate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(populate)
count = populate.populate_{what}(env)
env.cr.commit()
emit(count)
"""

MEASURE = """
import importlib.util
import statistics
from odoo import fields
spec = importlib.util.spec_from_file_location("sales_funnel_pl_compat", {compat!r})
compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat)
addon = "crm.lead.stage.history" in env
# the context the web client sends with every call
env = env(context=dict(env.context, tz="Europe/Warsaw",
                       allowed_company_ids=[env.company.id]))
Lead = env["crm.lead"]
user = env["res.users"].search([("login", "=", "bench_user_1")])
# stages present in both databases (Odoo's own), so both do the same work
new, qualified, proposition = (env.ref(f"crm.stage_lead{{i}}").id for i in (1, 2, 3))
results = {{}}

def measure(name, func, repeat={repeat}, setup=None):
    # each measure runs `repeat` times from the same data (rolled back):
    # the median time, and the queries of every run (they must agree)
    counts, times = set(), []
    for _ in range(repeat):
        env.invalidate_all()
        env.cr.flush()
        if setup:
            env.cr.execute(setup)
        queries, start = env.cr.sql_log_count, time.perf_counter()
        func()
        env.flush_all()
        times.append(time.perf_counter() - start)
        counts.add(env.cr.sql_log_count - queries)
        env.cr.rollback()
        env.invalidate_all()
    results[name] = {{
        "queries": max(counts),
        "seconds": round(statistics.median(times), 4),
        "runs": [round(t, 4) for t in times],
    }}
    if len(counts) > 1:
        results[name]["query_counts"] = sorted(counts)

team = env.ref("sales_team.team_sales_department")
measure("create 1,000", lambda: Lead.with_user(user).create([
    {{"name": f"Nowa {{i}}", "type": "opportunity", "stage_id": new,
      "team_id": team.id, "user_id": user.id, "expected_revenue": 1000}}
    for i in range(1000)]))
# the stage changes: open opportunities of every salesperson, moved by the
# sales manager (most opportunities of ten years are closed)
manager = env.ref("base.user_admin")
batch = Lead.search([("stage_id", "=", new)], limit=1000, order="id")
assert len(batch) == 1000, len(batch)
measure("batch stage change of 1,000", lambda: batch.with_user(manager).write(
    {{"stage_id": qualified}}))
singles = batch[:100]

def single_changes():
    for lead in singles.with_user(manager):
        lead.write({{"stage_id": proposition}})
        env.flush_all()
measure("100 single stage changes", single_changes)
# what finds an opportunity's rows in the addon's tables by opportunity:
# deleting the oldest opportunities (the cascade) and moving open ones to
# another company (crm asks for a team, salesperson and customer of theirs:
# none), by the sales manager of both companies
other = env["res.company"].search([("name", "=", "Druga spółka")])
if not other:
    other = env["res.company"].create({{"name": "Druga spółka"}})
    manager.write({{"company_ids": [(4, other.id)]}})
    env.cr.commit()
oldest = Lead.with_context(active_test=False).search([], limit=100, order="id")
measure("delete 100 opportunities", lambda: oldest.with_user(manager).unlink())
measure("100 opportunities to another company", lambda: batch[:100].with_user(
    manager).with_context(allowed_company_ids=[env.company.id, other.id]).write(
    {{"company_id": other.id, "team_id": False, "user_id": False}}))
# the reads as the series' graph and pivot views make them (compat.grouped_read:
# read_group on 18.0, formatted_read_group on 19.0)
measure("funnel read", lambda: compat.grouped_read(
    Lead.with_context(sales_funnel_fill_stages=True),
    [("type", "=", "opportunity"), ("probability", "<", 100)],
    ["stage_id"], ["expected_revenue:sum", "prorated_revenue:sum"]))
if addon:
    measure("forecast read", lambda: compat.grouped_read(
        env["sales.funnel.forecast.report"], [], ["date:month", "stage_id"],
        ["prorated_revenue:sum", "won_revenue:sum"]))
    # this month's forecast saved (one statement; rolled back), and the
    # forecast vs. won pivot as it opens (12 months, horizon 0)
    import datetime
    snapshots = env["sales.funnel.forecast.snapshot"]
    measure("forecast snapshot", lambda: snapshots._take_snapshot(
        env.company, datetime.date.today()))
    measure("forecast vs. won read", lambda: compat.grouped_read(
        env["sales.funnel.forecast.won.report"], [], ["date:month"],
        ["forecast_revenue:sum", "won_revenue:sum", "accuracy:avg", "target_amount:sum",
         "attainment:avg"]))
    # the measures the stage analysis pivot opens with
    measure("stage analytics read", lambda: compat.grouped_read(
        env["sales.funnel.stage.report"], [], ["stage_id"],
        ["entered_count:sum", "skipped_count:sum", "moved_on_count:sum",
         "lost_count:sum", "conversion:avg", "duration_days:avg",
         "median_days:median"]))
    # the funnel board as it opens (this month's cohort), on the last twelve
    # months (the largest cohort it offers), and its other reading
    board = env["sales.funnel.board"]
    measure("funnel board read", lambda: board.get_board_data("cohort", period="month"))
    measure("funnel board read (12 months)", lambda: board.get_board_data(
        "cohort", period="last_12_months"))
    measure("funnel board read (now)", lambda: board.get_board_data(
        "now", period="month"))
else:
    measure("forecast read", lambda: compat.grouped_read(
        Lead, [("type", "=", "opportunity")], ["date_deadline:month", "stage_id"],
        ["prorated_revenue:sum"]))
    measure("stage analytics read", lambda: compat.grouped_read(
        Lead, [("type", "=", "opportunity")], ["stage_id"], ["expected_revenue:sum"]))
    # crm's nearest reads: the opportunities of the last twelve months by
    # stage, lost ones included, and the open ones by stage
    def created_since(start):
        return lambda: compat.grouped_read(
            Lead.with_context(active_test=False),
            [("type", "=", "opportunity"), ("create_date", ">=", start)],
            ["stage_id"], ["expected_revenue:sum", "prorated_revenue:sum"])
    today = fields.Date.context_today(Lead)
    measure("funnel board read", created_since(today.replace(day=1)))
    measure("funnel board read (12 months)", created_since(
        fields.Date.subtract(today, months=12)))
    measure("funnel board read (now)", lambda: compat.grouped_read(
        Lead, [("type", "=", "opportunity"), ("probability", "<", 100)],
        ["stage_id"], ["expected_revenue:sum", "prorated_revenue:sum"]))
# the screens as the web client opens them (bench/screens.py)
spec = importlib.util.spec_from_file_location("sales_funnel_pl_screens", {screens!r})
screens = importlib.util.module_from_spec(spec)
spec.loader.exec_module(screens)
screens.measure_screens(env, compat, measure, user, addon)
emit(results)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100000)
    parser.add_argument("--prefix", default="sfp_bench")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each measure (median time)"
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure the databases kept by an earlier --keep run",
    )
    parser.add_argument(
        "--from-base",
        action="store_true",
        help="start from the data database kept by an earlier --keep run "
        "(copy it again, install the addon, measure)",
    )
    parser.add_argument(
        "--populate-only",
        action="store_true",
        help="only build the data database (kept), for later --from-base runs",
    )
    # one result file per series: the Odoo running this script (see README)
    parser.add_argument(
        "--json", default=str(REPO / "bench" / f"results-{SERIES}.json")
    )
    parser.add_argument(
        "--compare",
        help="JSON of a run at another size, whose times are printed beside",
    )
    parser.add_argument(
        "--tables",
        action="store_true",
        help="only print the tables of the JSON (with --compare's beside)",
    )
    args = parser.parse_args()
    if args.tables:
        print_tables(
            json.loads(Path(args.json).read_text()),
            json.loads(Path(args.compare).read_text()) if args.compare else None,
        )
        return
    base, plain, addon = (
        f"{args.prefix}_{kind}" for kind in ("base", "plain", "addon")
    )
    populated_file = Path(args.json).with_suffix(".data.json")
    if args.measure_only:
        # the data and install of an earlier run (--keep): its figures stay
        earlier = json.loads(Path(args.json).read_text())
        populated = earlier["data"]
        install = earlier["install"]
    else:
        if args.from_base:
            populated = json.loads(populated_file.read_text())
        else:
            subprocess.run(["dropdb", "--if-exists", base], check=True)
            print(
                f"creating {base} with crm and {args.leads} opportunities...",
                flush=True,
            )
            run_odoo(base, "-i", "crm", *WITHOUT_DEMO, "--stop-after-init")
            t0 = time.perf_counter()
            [populated] = shell(
                base,
                POPULATE.format(
                    n=args.leads,
                    groups=USER_GROUPS_FIELD,
                    populate=str(POPULATE_MODULE),
                ),
            )
            populated["seconds"] = round(time.perf_counter() - t0)
            populated_file.write_text(json.dumps(populated, indent=2) + "\n")
            print(
                f"  {populated['leads']} opportunities ({populated['open']} open, "
                f"{populated['won']} won, {populated['lost']} lost), "
                f"{populated['tracking']} tracked stage changes "
                f"in {populated['seconds']} s",
                flush=True,
            )
            if args.populate_only:
                return
        for db in (plain, addon):
            subprocess.run(["dropdb", "--if-exists", db], check=True)
            subprocess.run(["createdb", "-T", base, db], check=True)
        install = install_addon(addon, Path(args.json).with_suffix(".install.log"))
        # what the addon records once installed (RECORDED), counted and timed
        for what in ("value_changes", "skipped_stages"):
            t0 = time.perf_counter()
            [install[what]] = shell(
                addon, RECORDED.format(populate=str(POPULATE_MODULE), what=what)
            )
            install[f"{what}_seconds"] = round(time.perf_counter() - t0)
            print(
                f"  {install[what]} {what.replace('_', ' ')} recorded "
                f"in {install[f'{what}_seconds']} s",
                flush=True,
            )
        # kept at once: a run stopped while it measures (to measure each
        # series alone, say) keeps its install's figures for --measure-only
        Path(args.json).write_text(
            json.dumps({"data": populated, "install": install}, indent=2) + "\n"
        )
        print(
            f"  install with history backfill: {install['seconds']} s, "
            f"peak RSS {install['peak_rss_mb']} MB",
            flush=True,
        )
    [(history, skipped, snapshot_lines)] = shell(
        addon,
        (
            'env.cr.execute("SELECT (SELECT count(*) FROM crm_lead_stage_history),'
            " (SELECT count(*) FROM crm_lead_stage_history_skip),"
            ' (SELECT count(*) FROM sales_funnel_forecast_snapshot)")\n'
            "emit(env.cr.fetchone())"
        ),
    )

    results = {}
    for kind, db in (("plain", plain), ("addon", addon)):
        # as autovacuum leaves a live database: dead rows gone, statistics fresh
        subprocess.run(["vacuumdb", "--quiet", "--analyze", db], check=True)
        print(f"measuring {db}...", flush=True)
        [results[kind]] = shell(
            db,
            MEASURE.format(
                compat=str(COMPAT), screens=str(SCREENS), repeat=args.repeat
            ),
        )

    report = {
        "date": time.strftime("%Y-%m-%d"),
        "odoo": SERIES,
        "machine": f"{os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "data": populated,
        "install": install,
        "leads": populated["leads"],
        "tracked_stage_changes": populated["tracking"],
        "history_rows_after_install": history,
        "skipped_stage_rows_after_install": skipped,
        "forecast_snapshot_lines_rebuilt_at_install": snapshot_lines,
        "install_seconds": install["seconds"],
        "install_peak_rss_mb": install["peak_rss_mb"],
        "measures": results,
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print_tables(
        report, json.loads(Path(args.compare).read_text()) if args.compare else None
    )
    if not args.keep:
        for db in (base, plain, addon):
            subprocess.run(["dropdb", "--if-exists", db], check=True)


def print_tables(report, compare=None):
    """The report's tables (Markdown), with the times of ``compare`` (a run
    at another size) beside each measure's."""
    results = report["measures"]
    history = report["history_rows_after_install"]
    skipped = report["skipped_stage_rows_after_install"]
    other = compare["measures"] if compare else {"plain": {}, "addon": {}}
    size = f"{compare['leads']:,}" if compare else ""
    print()
    print(
        f"Odoo {report['odoo']}, {report['date']}, {report['machine']}, "
        f"{report['leads']} opportunities, "
        f"{history} history rows, {skipped} skipped stages"
    )
    print(
        f"install with history backfill: {report['install_seconds']} s, "
        f"peak RSS {report['install_peak_rss_mb']} MB"
    )
    if "value_changes" in report["install"]:
        print(f"value changes recorded: {report['install']['value_changes']}")
    print()
    beside = f" | addon s at {size}" if compare else ""

    def beside_cell(name):
        # the other size's time of the measure, and the row's end
        if not compare:
            return " |"
        earlier = other["addon"].get(name, {}).get("seconds")
        return f" | {earlier:.3f} |" if earlier is not None else " | — |"

    print(
        "| measure | plain CRM queries | addon queries | extra queries | plain CRM s "
        f"| addon s | time ratio{beside} |"
    )
    print(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---:"
        + (" | ---:" if compare else "")
        + " |"
    )
    for name, plain_result in results["plain"].items():
        addon_result = results["addon"][name]
        ratio = (
            addon_result["seconds"] / plain_result["seconds"]
            if plain_result["seconds"]
            else 0
        )
        print(
            f"| {name} | {plain_result['queries']} | {addon_result['queries']} | "
            f"{addon_result['queries'] - plain_result['queries']:+d} | "
            f"{plain_result['seconds']:.3f} | {addon_result['seconds']:.3f} | "
            f"{ratio:.2f}" + beside_cell(name)
        )
    addon_only = [name for name in results["addon"] if name not in results["plain"]]
    if addon_only:
        print()
        print(f"| measure (addon only) | queries | s{beside} |")
        print("| --- | ---: | ---:" + (" | ---:" if compare else "") + " |")
        for name in addon_only:
            print(
                f"| {name} | {results['addon'][name]['queries']} | "
                f"{results['addon'][name]['seconds']:.3f}" + beside_cell(name)
            )


if __name__ == "__main__":
    main()
