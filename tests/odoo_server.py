# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real Odoo server (prefork: --workers) on loopback, for the checks in
tests/ that drive it over HTTP, and a web client's session on it (JSON-RPC
as the web client calls it: /web/session/authenticate, then
/web/dataset/call_kw/<model>.<method>); what its log says of errors, which of
its workers serve a request; and the invariant those checks verify on the
database afterwards: each opportunity's stage history is one unbroken chain."""

import http.cookiejar
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest
from odoo_cli import addons_path

# `python3 -m odoo`, from a file: the prefork server starts its websocket
# process as `python3 <sys.argv[0]> gevent ...`, and restarts it in a loop when
# it dies (it does when sys.argv[0] is odoo/__main__.py, or without gevent's
# dependencies). No websocket is used here: that process only waits to be killed.
LAUNCHER = """import signal
import sys

if sys.argv[1:2] == ["gevent"]:
    signal.pause()
from odoo.cli.command import main

main()
"""

LOG_RECORD = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ (?P<pid>\d+) (?P<level>[A-Z]+) "
    r"(?P<db>\S+) (?P<logger>[\w.]+): (?P<message>.*)$"
)
# the concurrency errors Odoo retries a request on (five tries)
RETRIED = ("could not serialize access", "deadlock detected", "could not obtain lock")


@pytest.fixture(scope="session")
def load_registry():
    """Replaces pytest-odoo's fixture of that name in the modules that import
    it: Odoo runs in subprocesses there, so no registry (nor
    --odoo-database) is needed."""
    yield


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url, payload, timeout=120, opener=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with (opener or urllib.request.build_opener()).open(
        request, timeout=timeout
    ) as response:
        return json.load(response)


def log_records(path, times=False):
    """The server log as [pid, level, logger, message] records, one per entry
    (with ``times``, its time besides, in seconds since the epoch): a
    traceback's lines belong to the entry they follow."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        match = LOG_RECORD.match(line)
        if match:
            record = [
                int(match["pid"]),
                match["level"],
                match["logger"],
                match["message"],
            ]
            if times:
                moment = datetime.strptime(match["time"], "%Y-%m-%d %H:%M:%S")
                record.append(time.mktime(moment.timetuple()))
            records.append(record)
        elif records:
            records[-1][3] += "\n" + line
    return records


def retried_errors(records):
    """What the server log (log_records) says of errors: {"errors": the
    ERROR and CRITICAL records but the concurrency errors Odoo retried,
    "retried": those failed queries, "retries": Odoo's lines announcing a
    retry, "out_of_tries": the requests that ran out of tries}. Each failed
    query of a retried request is logged once and announced once."""
    errors = [record for record in records if record[1] in ("ERROR", "CRITICAL")]
    retried = [
        record
        for record in errors
        if record[2] == "odoo.sql_db"
        and record[3].startswith("bad query")
        and any(reason in record[3] for reason in RETRIED)
    ]
    return {
        "errors": [record for record in errors if record not in retried],
        "retried": retried,
        "retries": [
            record
            for record in records
            if record[2] == "odoo.service.model"
            and "tries left, try again" in record[3]
        ],
        "out_of_tries": [
            record for record in records if "maximum number of tries" in record[3]
        ],
    }


def start_server(log_dir, db, *options, name="odoo-workers", workers=2):
    """Start Odoo on ``db`` (and it alone) with ``workers`` workers, no cron
    thread, on a free loopback port, logging to ``<log_dir>/<name>.log``,
    with Odoo's ``options`` besides; returns (process, port, log file) once
    it answers."""
    port = free_port()
    logfile = log_dir / f"{name}.log"
    launcher = log_dir / "odoo_server.py"
    launcher.write_text(LAUNCHER)
    with (log_dir / f"{name}.out").open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                str(launcher),
                f"--addons-path={addons_path()}",
                "-d",
                db,
                f"--db-filter=^{db}$",
                f"--workers={workers}",
                "--max-cron-threads=0",
                "--http-interface=127.0.0.1",
                f"--http-port={port}",
                f"--gevent-port={free_port()}",
                "--log-level=info",
                f"--logfile={logfile}",
                *options,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, (log_dir / f"{name}.out").read_text()[-3000:]
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/web/login", timeout=5
            ) as page:
                if page.status == 200:
                    return server, port, logfile
        except OSError:
            pass
        assert time.monotonic() < deadline, "the server did not answer in 60 s"
        time.sleep(0.5)


def stop_server(server):
    server.terminate()  # the master stops its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    try:  # anything the server left behind in its session (its own group)
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class RpcError(Exception):
    """An error Odoo answered a JSON-RPC call with; ``name``: its exception's
    (odoo.http.SessionExpiredException, ...)."""

    def __init__(self, message, name=None):
        super().__init__(message)
        self.name = name


class WebSession:
    """A user logged in to the web client: its session cookie, its context
    (language, time zone, companies), and its calls, sent as the web client
    sends them."""

    def __init__(self, port, db, login, password):
        self.url = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        info = self._jsonrpc(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        self.id = info["uid"]
        assert self.id, f"{login} could not log in"
        self.login = login
        self.context = dict(info["user_context"])
        companies = info.get("user_companies") or {}
        current = companies.get("current_company")
        self.context["allowed_company_ids"] = [current] if current else []

    def _jsonrpc(self, path, params):
        answer = post(
            self.url + path,
            {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            opener=self.opener,
        )
        if "error" in answer:
            data = answer["error"].get("data", {})
            raise RpcError(
                f"{path}: {data.get('name')}: {data.get('message')}", data.get("name")
            )
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        """/web/dataset/call_kw/<model>.<method>, the user's context under
        the call's own."""
        context = {**self.context, **kwargs.pop("context", {})}
        return self._jsonrpc(
            f"/web/dataset/call_kw/{model}.{method}",
            {
                "model": model,
                "method": method,
                "args": list(args),
                "kwargs": {**kwargs, "context": context},
            },
        )

    def button(self, model, method, ids, context=None):
        """A button of type "object" (/web/dataset/call_button)."""
        return self._jsonrpc(
            f"/web/dataset/call_button/{model}.{method}",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": {**self.context, **(context or {})}},
            },
        )


# ----------------------------------------------------------------------
# The server's processes
# ----------------------------------------------------------------------


def children(pid):
    """The pids of the processes ``pid`` started (a prefork master's
    workers, its websocket process), from each process's parent in /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def serving(pids, port):
    """Those of ``pids`` that hold an accepted connection on the loopback
    port ``port`` (an established TCP connection whose local end is the
    server's port): the workers serving a request now."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                lines = file.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(f"socket:[{fields[9]}]")
    found = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    found.append(pid)
                    break
            except FileNotFoundError:
                continue
    return found


# ----------------------------------------------------------------------
# The stage history's chain, read with SQL
# ----------------------------------------------------------------------

HISTORY_COLUMNS = (
    "id",
    "lead_id",
    "stage_id",
    "previous_stage_id",
    "next_stage_id",
    "change_type",
    "left_change",
    "date_enter",
    "date_leave",
    "duration_days",
    "probability",
    "date_stage",
    "expected_revenue",
)
# the history rows of the opportunities %s (an array of ids; merged
# opportunities' rows keep a chain of their own, none here), in their order
HISTORY_SQL = f"""
SELECT {", ".join(HISTORY_COLUMNS)}
  FROM crm_lead_stage_history
 WHERE lead_id = ANY(%s) AND merged_lead_id IS NULL
 ORDER BY lead_id, date_enter, id
"""
LEADS_SQL = """
SELECT id, stage_id, active, probability FROM crm_lead WHERE id = ANY(%s)
"""


def iter_history(cnx, lead_ids):
    """(lead id, [its history rows as dicts, in order]) of each of
    ``lead_ids`` that has rows, read in one pass (a server-side cursor: the
    history of every opportunity is never held in memory at once)."""
    with cnx.cursor(name="sales_funnel_pl_history") as cr:
        cr.itersize = 20000
        cr.execute(HISTORY_SQL, [list(lead_ids)])
        for lead_id, values in itertools.groupby(cr, key=lambda values: values[1]):
            yield (
                lead_id,
                [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in values],
            )


def read_leads(cnx, lead_ids):
    """{lead id: its stage_id, active, probability}."""
    with cnx.cursor() as cr:
        cr.execute(LEADS_SQL, [list(lead_ids)])
        return {
            lead_id: {"stage_id": stage, "active": active, "probability": probability}
            for lead_id, stage, active, probability in cr.fetchall()
        }


def chain_problems(rows, lead, won_stage_id):
    """What breaks the chain of one opportunity's history ``rows`` (in
    order), ``lead`` the opportunity (read_leads): each row is left when
    the next one is entered (same date, stages and kind of change on both
    sides), days in a stage count from its stage date to the next one's,
    which never goes backwards, a stage change enters another stage (a win
    the won stage), a loss or a restoration stays in it; only the last row
    is open and holds the opportunity's stage, and it is a loss exactly when
    the opportunity is lost (archived). [] when it holds."""
    problems = []

    def check(condition, what, *context):
        if not condition:
            problems.append((what, *context))

    if not rows:
        return [("no history", lead)]
    check(
        [row["id"] for row in rows] == sorted(row["id"] for row in rows),
        "ids not in the order of the changes",
    )
    first, last = rows[0], rows[-1]
    check(
        first["change_type"] == "create" and first["previous_stage_id"] is None,
        "first row not a creation",
        first,
    )
    for row, following in itertools.pairwise(rows):
        pair = (row, following)
        check(
            row["date_leave"] == following["date_enter"], "left when not entered", *pair
        )
        check(
            row["date_leave"] is not None and row["date_enter"] <= row["date_leave"],
            "not left, or left before entered",
            row,
        )
        check(
            following["previous_stage_id"] == row["stage_id"], "previous stage", *pair
        )
        check(row["next_stage_id"] == following["stage_id"], "next stage", *pair)
        check(row["left_change"] == following["change_type"], "left by", *pair)
        if following["change_type"] in ("stage", "won"):
            check(following["stage_id"] != row["stage_id"], "a change to itself", *pair)
            check(
                (following["change_type"] == "won")
                == (following["stage_id"] == won_stage_id),
                "won exactly in the won stage",
                *pair,
            )
        else:
            check(
                following["stage_id"] == row["stage_id"],
                "lost or restored in another stage",
                *pair,
            )
        if None in (row["date_stage"], following["date_stage"]):
            problems.append(("no stage date", *pair))
            continue
        days = (following["date_stage"] - row["date_stage"]).days
        check(days >= 0, "stage dates going backwards", *pair)
        check(row["duration_days"] == days, "days in the stage", *pair)
    check(
        last["date_leave"] is None
        and last["next_stage_id"] is None
        and last["left_change"] is None,
        "last row closed",
        last,
    )
    check(
        sum(1 for row in rows if row["date_leave"] is None) == 1,
        "more than one open row",
    )
    check(last["stage_id"] == lead["stage_id"], "last row not the lead's stage", last)
    check(
        (last["change_type"] == "lost") == (not lead["active"]),
        "lost (archived) exactly when the last row is a loss",
        last,
        lead,
    )
    return problems
