# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two Odoo workers moving the same opportunities at once keep each
opportunity's stage history one unbroken chain.

A throw-away database gets the addon, a salesperson and eleven opportunities
in the first stage. A real server then runs on loopback with --workers=2, and
eight client threads, released together, send 192 JSON-RPC stage changes as
the salesperson: two move one opportunity ("hammered") one call at a time, a
third moves it in batch writes together with a second one, which a fourth
moves in batches with a third one; four threads move opportunities of their
own. The server log must show both workers serving the calls and no error but
the serialization failures that Odoo retried.

Each thread moves a shared opportunity back and forth between two stages of
its own, so the history can be checked exactly: each row is left when the
next one is entered (same date, stages and kind of change on both sides),
only the last row is open and holds the opportunity's stage, and the rows in
a thread's stages are exactly the changes it made, in its order: no change is
lost or logged twice. Opportunities of one thread get its exact sequence, a
write that keeps the stage logging nothing. (Dates are stored to the second:
two rows may share a date and a stage legitimately, so duplicates are ruled out
by these exact counts rather than by dates.)

Odoo retries a request at most five times on a serialization failure; the
mix keeps conflicts frequent (a few per run) but five in a row improbable.
"""

import itertools
import os
import re
import subprocess
import threading
import time
from collections import Counter

import psycopg2
import pytest
from odoo_cli import USER_GROUPS_FIELD, WITHOUT_DEMO, run, shell
from odoo_server import (
    chain_problems,
    iter_history,
    load_registry,  # noqa: F401 - Odoo runs in subprocesses: no registry here
    log_records,
    post,
    read_leads,
    retried_errors,
    start_server,
    stop_server,
)

DB = os.environ.get("SALES_FUNNEL_PL_WORKERS_DB", "sales_funnel_pl_workers")
LOGIN, PASSWORD = "handlowiec.wspolbiezny", "Wspolbiezne-Haslo-2024!"
CALLS = 24  # per thread
WON = 17


def _alternate(first, second):
    return [first if call % 2 == 0 else second for call in range(CALLS)]


# stage numbers (sales_funnel_pl.stage_NN) each thread writes, one call after
# another, on the opportunities it writes together; no two threads writing
# the same opportunity share a stage, and none writes the same stage twice
# in a row: every call is a change
SHARED = [
    (("hammered",), _alternate(2, 3)),
    (("hammered",), _alternate(4, 5)),
    (("hammered", "batch1"), _alternate(6, 7)),
    (("batch1", "batch2"), _alternate(8, 9)),
]
# opportunities of one thread (two each, in turns): calls that keep the
# stage, wins, reopenings, a return to the first stage
_OWN_PLANS = [
    [2, 3, 3, 5, 17, 17, 6, 9, 9, 16, 1, 14],
    [4, 4, 7, 17, 2, 11, 12, 12, 15, 17, 1, 1],
    [1, 17, 17, 1, 13, 13, 13, 10, 8, 17, 16, 16],
    [5, 6, 5, 6, 17, 2, 2, 3, 17, 4, 9, 10],
]
OWN = {
    f"own{number}": plan
    for number, plan in enumerate(_OWN_PLANS + [plan[::-1] for plan in _OWN_PLANS], 1)
}
LEADS = ["hammered", "batch1", "batch2", *OWN]


def _thread_calls():
    """[[(opportunity names, stage number)] for each thread]."""
    threads = [[(names, number) for number in plan] for names, plan in SHARED]
    names = list(OWN)
    for first, second in zip(names[::2], names[1::2], strict=True):
        threads.append(
            [
                ((name,), number)
                for pair in zip(OWN[first], OWN[second], strict=True)
                for name, number in zip((first, second), pair, strict=True)
            ]
        )
    return threads


SETUP = f"""
user = env["res.users"].with_context(no_reset_password=True).create({{
    "name": "Handlowiec Współbieżny", "login": {LOGIN!r}, "password": {PASSWORD!r},
    {USER_GROUPS_FIELD!r}: [(6, 0, [env.ref("sales_team.group_sale_salesman").id])],
}})
team = env["crm.team"].create(
    {{"name": "Zespół współbieżny", "member_ids": [(6, 0, user.ids)]}}
)
leads = env["crm.lead"].with_user(user).create([
    {{"name": f"Szansa {{name}}", "type": "opportunity", "user_id": user.id,
      "team_id": team.id, "stage_id": env.ref("sales_funnel_pl.stage_01").id}}
    for name in {LEADS!r}
])
emit({{
    "uid": user.id,
    "leads": dict(zip({LEADS!r}, leads.ids)),
    "stages": {{
        str(n): env.ref(f"sales_funnel_pl.stage_{{n:02d}}").id for n in range(1, 18)
    }},
}})
"""

# the stages' probabilities
PROBABILITIES_SQL = "SELECT id, probability FROM crm_stage"

# a served JSON-RPC call: 19.0 logs the model and method after the path
# ("POST /jsonrpc#crm.lead.write HTTP/1.1"), 18.0 does not
JSONRPC_SERVED = re.compile(r'"POST /jsonrpc(#[\w.]+)? HTTP/1\.1" 200 ')


def _rpc(port, service, method, *args):
    answer = post(
        f"http://127.0.0.1:{port}/jsonrpc",
        {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"service": service, "method": method, "args": list(args)},
        },
    )
    if "error" in answer:
        data = answer["error"].get("data", {})
        raise RuntimeError(f"{data.get('name')}: {data.get('message')}")
    return answer["result"]


def _thread_plans(setup):
    """_thread_calls() with database ids."""
    return [
        [
            ([setup["leads"][name] for name in names], setup["stages"][str(number)])
            for names, number in calls
        ]
        for calls in _thread_calls()
    ]


def _move_concurrently(port, uid, plans):
    barrier = threading.Barrier(len(plans))
    failures = []

    def work(plan):
        barrier.wait()
        for lead_ids, stage_id in plan:
            try:
                result = _rpc(
                    port,
                    "object",
                    "execute_kw",
                    DB,
                    uid,
                    PASSWORD,
                    "crm.lead",
                    "write",
                    [lead_ids, {"stage_id": stage_id}],
                )
                assert result is True, result
            except Exception as exc:  # noqa: BLE001 - every failure is reported below
                failures.append(f"write {lead_ids} -> stage {stage_id}: {exc!r}")

    threads = [threading.Thread(target=work, args=(plan,)) for plan in plans]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "client threads hang"
    return failures, time.monotonic() - start


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    subprocess.run(["dropdb", "--if-exists", "--force", DB], check=True)
    try:
        run(DB, "-i", "sales_funnel_pl", *WITHOUT_DEMO, "--stop-after-init")
        setup = shell(DB, SETUP)
        plans = _thread_plans(setup)
        log_dir = tmp_path_factory.mktemp("workers")
        server, port, logfile = start_server(log_dir, DB)
        try:
            uid = _rpc(port, "common", "login", DB, LOGIN, PASSWORD)
            assert uid == setup["uid"]
            failures, seconds = _move_concurrently(port, uid, plans)
        finally:
            stop_server(server)
        lead_ids = list(setup["leads"].values())
        cnx = psycopg2.connect(dbname=DB)
        try:
            history = dict(iter_history(cnx, lead_ids))
            leads = read_leads(cnx, lead_ids)
            with cnx.cursor() as cr:
                cr.execute(PROBABILITIES_SQL)
                probabilities = dict(cr.fetchall())
        finally:
            cnx.close()
        yield {
            "setup": setup,
            "plans": plans,
            "failures": failures,
            "seconds": seconds,
            "master": server.pid,
            "log": log_records(logfile),
            "logfile": logfile,
            "history": history,
            "leads": leads,
            "probabilities": probabilities,
        }
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", DB], check=True)


def _rows(run_result, name):
    return run_result["history"][run_result["setup"]["leads"][name]]


def _stage_numbers(run_result, rows):
    number = {stage_id: int(n) for n, stage_id in run_result["setup"]["stages"].items()}
    return [number[row["stage_id"]] for row in rows]


def test_every_call_succeeds_on_both_workers(run_result):
    assert run_result["failures"] == []
    calls = sum(len(plan) for plan in run_result["plans"])
    served = Counter(
        pid
        for pid, _level, logger, message in run_result["log"]
        if logger == "werkzeug" and JSONRPC_SERVED.search(message)
    )
    print(
        f"\n{calls} stage-change calls in {run_result['seconds']:.1f} s; "
        f"/jsonrpc requests per worker pid: {dict(served)}; "
        f"master pid {run_result['master']}; log {run_result['logfile']}"
    )
    assert sum(served.values()) == calls + 1  # and the login
    assert run_result["master"] not in served
    assert len(served) >= 2, served


def test_no_error_but_retried_serialization_failures(run_result):
    log = retried_errors(run_result["log"])
    print(
        f"\nconcurrency errors retried by Odoo: {len(log['retries'])} "
        f"{dict(Counter(record[3].split(',')[0] for record in log['retries']))}"
    )
    assert log["errors"] == []
    # each failed query was retried, and no request ran out of tries
    assert len(log["retries"]) == len(log["retried"])
    assert log["out_of_tries"] == []


def test_every_history_is_one_chain(run_result):
    leads, probability = run_result["leads"], run_result["probabilities"]
    won = run_result["setup"]["stages"][str(WON)]
    for name, lead_id in run_result["setup"]["leads"].items():
        rows = _rows(run_result, name)
        assert chain_problems(rows, leads[lead_id], won) == [], name
        # only stage changes and wins here: each row at its stage's probability
        assert {row["change_type"] for row in rows[1:]} <= {"stage", "won"}, name
        for row in rows:
            assert row["probability"] == probability[row["stage_id"]], (name, row)
        assert leads[lead_id]["probability"] == probability[rows[-1]["stage_id"]], name


def test_each_thread_changes_are_all_logged_in_order(run_result):
    rows = {name: _stage_numbers(run_result, _rows(run_result, name)) for name in LEADS}
    for name in ("hammered", "batch1", "batch2"):
        plans = [plan for names, plan in SHARED if name in names]
        assert rows[name][0] == 1, name
        assert len(rows[name]) == 1 + sum(len(plan) for plan in plans), name
        for plan in plans:
            assert [number for number in rows[name] if number in plan] == plan, (
                name,
                plan,
            )
    # the threads' changes interleave, they did not run one after another
    thread = {
        number: index for index, (_n, plan) in enumerate(SHARED) for number in plan
    }
    turns = [thread[number] for number in rows["hammered"][1:]]
    assert sum(1 for a, b in itertools.pairwise(turns) if a != b) > 2, turns
    for name, plan in OWN.items():
        expected = [1]
        for number in plan:
            if number != expected[-1]:
                expected.append(number)
        assert rows[name] == expected, name
