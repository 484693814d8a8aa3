# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A real Odoo server (prefork: --workers) on loopback, for the checks in
tests/ that drive it over HTTP, and a web client's session on it (JSON-RPC
as the web client calls it: /web/session/authenticate, then
/web/dataset/call_kw/<model>.<method>)."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

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
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (?P<pid>\d+) (?P<level>[A-Z]+) "
    r"(?P<db>\S+) (?P<logger>[\w.]+): (?P<message>.*)$"
)


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


def log_records(path):
    """The server log as (pid, level, logger, message) records, one per entry:
    a traceback's lines belong to the entry they follow."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        match = LOG_RECORD.match(line)
        if match:
            records.append(
                [int(match["pid"]), match["level"], match["logger"], match["message"]]
            )
        elif records:
            records[-1][3] += "\n" + line
    return records


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
    """An error Odoo answered a JSON-RPC call with."""


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
            raise RpcError(f"{path}: {data.get('name')}: {data.get('message')}")
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
