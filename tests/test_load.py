# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Many workers under load, with faults: nothing half-written, nothing lost.

A PostgreSQL cluster of this check's own (it restarts PostgreSQL) gets a
database with the addon and a company of 20,000 opportunities: ten years of
sales built in SQL (bench/populate.py) and turned into stage history by the
addon's own install steps, three sales teams of four salespeople each with
their manager, and a sales director, all in Europe/Warsaw. Odoo then runs with
--workers=4 on loopback, and 16 clients, one per user, log in as the web
client does and work for a bounded time (SALES_FUNNEL_PL_LOAD=long: two
minutes; by default, the CI mode: 40 seconds), each sending its next call as
soon as the last one answered: the salespeople open their pipeline (the web
client's calls, bench/screens.py), move their opportunities (one from the
form, several from the list), win and lose them and restore lost ones, plan
activities and mark them done, open the funnel board and the reports; the
managers open the whole pipeline, the board and the reports. Some
opportunities are moved by three users at once (their salesperson, the
team's manager, the director), each within stages of their own, alone and in
batches.

During the load a worker is killed (SIGKILL) while it serves a request (it
holds a client's connection), and Odoo's prefork master must start another;
then PostgreSQL is restarted (pg_ctl restart -m fast). Calls in flight then
may fail; every other call must succeed, and the server log may hold no
error but the concurrency errors Odoo retried and those of the faults'
moments. Every client must keep working after the faults.

Afterwards, with SQL on the database: every opportunity's stage history is one
unbroken chain (odoo_server.chain_problems, as test_workers_concurrency.py
checks it), its furthest stage is the one the addon's own rule recomputes
from the history (crm.lead._stage_reached_refresh, rolled back), and every
change a client saw acknowledged is in the history exactly once, in the order
that client made it: each move also writes a value of its own into the
opportunity's expected revenue (a token), which the history row keeps, so a
row is traced to the call that made it; a call that failed may be there once
or not at all. Per call type, the figures (count, median, 95th percentile,
errors) go to .test-logs/<series>/load.json (load-long.json in the long mode)
and are printed as a table.
"""

import importlib.util
import json
import math
import os
import platform
import random
import shutil
import signal
import statistics
import threading
import time
import traceback
import types
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from odoo_cli import REPO, SERIES, USER_GROUPS_FIELD, WITHOUT_DEMO, run, shell
from odoo_server import (
    RpcError,
    WebSession,
    chain_problems,
    children,
    iter_history,
    load_registry,  # noqa: F401 - Odoo runs in subprocesses: no registry here
    log_records,
    read_leads,
    retried_errors,
    serving,
    start_server,
    stop_server,
)
from pg_replica import private_cluster

MODE = os.environ.get("SALES_FUNNEL_PL_LOAD", "ci")
SECONDS = {"ci": 40, "long": 120}
LEADS = 20_000
DB = "sales_funnel_pl_load"
TZ = "Europe/Warsaw"
CITIES = ("Warszawa", "Kraków", "Gdańsk")
SALESPEOPLE = 4  # per team
WORKERS = 4
# the faults, as fractions of the load's time
KILL_AT, RESTART_AT = 0.25, 0.5
LOG_DIR = Path(os.environ.get("SALES_FUNNEL_PL_LOG_DIR", REPO / ".test-logs")) / SERIES


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COMPAT = _module("sales_funnel_pl_compat", REPO / "sales_funnel_pl" / "compat.py")
SCREENS = _module("sales_funnel_pl_screens", REPO / "bench" / "screens.py")


def _password(login):
    return f"{login}-Haslo-2024!"


# stages (their numbers, sales_funnel_pl.stage_NN) each user moves the
# opportunities it shares with others within: no two share one, so a write
# of each is always a change, and each user's changes can be told apart
SHARED_STAGES = {"salesperson": [1, 2, 3, 4], "manager": [5, 6, 7, 8]}
DIRECTOR_STAGES = [9, 10, 11, 12]
WON = 17

SETUP = """
import importlib.util
import time
from odoo.addons.sales_funnel_pl import hooks
spec = importlib.util.spec_from_file_location("sales_funnel_pl_populate", POPULATE)
populate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(populate)
Users = env["res.users"].with_context(no_reset_password=True)
groups = {
    "salesperson": env.ref("sales_team.group_sale_salesman"),
    "manager": env.ref("sales_team.group_sale_manager"),
}
def user(login, name, role):
    return Users.create({
        "name": name, "login": login, "password": PASSWORDS[login],
        "email": login + "@example.com", "tz": TZ,
        GROUPS_FIELD: [(6, 0, [groups[role].id])],
    })
users = []
people = []
director = user("dyrektor.sprzedazy", "Dyrektor Sprzedaży", "manager")
for number, city in enumerate(CITIES, 1):
    manager = user(f"kierownik.{number}", f"Kierownik {city}", "manager")
    salespeople = [
        user(f"handlowiec.{number}.{i}", f"Handlowiec {city} {i}", "salesperson")
        for i in range(1, SALESPEOPLE + 1)
    ]
    team = env["crm.team"].create({
        "name": f"Zespół {city}", "user_id": manager.id,
        "member_ids": [(6, 0, [person.id for person in salespeople])],
    })
    users += [{"login": manager.login, "uid": manager.id, "role": "manager",
               "team": number}]
    users += [{"login": person.login, "uid": person.id, "role": "salesperson",
               "team": number} for person in salespeople]
    people += [(person.id, team.id) for person in salespeople]
users.append({"login": director.login, "uid": director.id, "role": "director",
              "team": None})
stages = [env.ref(f"sales_funnel_pl.stage_{n:02d}").id for n in range(1, 18)]
started = time.monotonic()
counts = populate.populate(env, LEADS, people, stages[:16], stages[16])
populated = time.monotonic()
# what the install does with opportunities it finds: process dates, stage
# history from the tracking, furthest stages, past forecasts
hooks.post_init_hook(env)
env.cr.commit()
counts.update(populate_s=round(populated - started, 1),
              install_steps_s=round(time.monotonic() - populated, 1))
MODELS = ["crm.lead", "sales.funnel.forecast.report", "sales.funnel.stage.report",
          "sales.funnel.velocity.report", "sales.funnel.forecast.won.report"]
emit({
    "users": users,
    "stages": stages,
    "counts": counts,
    "lost_reason": env["crm.lost.reason"].search([], limit=1).id,
    "activity_type": env.ref("sales_funnel_pl.mail_activity_type_next_action").id,
    "lead_model": env["ir.model"]._get_id("crm.lead"),
    "field_types": {
        model: {name: field.type for name, field in env[model]._fields.items()}
        for model in MODELS
    },
})
"""

REACHED = """
env.cr.execute("SELECT id, stage_reached_id FROM crm_lead ORDER BY id")
before = env.cr.fetchall()
env["crm.lead"]._stage_reached_refresh()
env.cr.execute("SELECT id, stage_reached_id FROM crm_lead ORDER BY id")
after = env.cr.fetchall()
env.cr.rollback()
emit({"leads": len(before),
      "differ": [[b[0], b[1], a[1]] for b, a in zip(before, after) if b != a]})
"""

FAILED = object()
# a call made with a session Odoo ended: Odoo 18.0 and 19.0 log out the
# session of any request that finds the database unusable (odoo/http.py)
SESSION_EXPIRED = "odoo.http.SessionExpiredException"
# after an error, a user reads it before going on
PAUSE_AFTER_ERROR = 0.5
# every client logs in within this time, before the day starts
LOGIN_SECONDS = 300
# how long a client works on past the deadline for a call made after the
# faults to succeed
OVERTIME = 60


class Client(threading.Thread):
    """One user at work: logs in, then, once every client has, makes one
    action after another until the deadline, each timed under its call
    type."""

    def __init__(self, number, user, world, port, clock):
        super().__init__(name=user["login"])
        self.number = number
        self.user = user
        self.world = world
        self.port = port
        self.web = None  # the session, once logged in
        self.clock = clock  # the barrier the day starts at, its deadline
        self.rng = random.Random(number)
        self.calls = []  # (type, start, end, error or None)
        self.changes = []  # what the history must show: see _change
        self.stages = world["stages"]
        # own opportunities: {id: [stage id, "open" | "won" | "lost"]}
        self.own = {lead_id: [stage, "open"] for lead_id, stage in user["own"]}
        self.uncertain = set()  # own opportunities whose state an error hid
        self.activities = {}  # planned, not done: {activity id: lead id}
        # shared groups: [lead ids, my stages, stages they may be in of mine]
        self.shared = [[ids, stages, set(now)] for ids, stages, now in user["shared"]]
        self.token = (number + 1) * 1_000_000
        self.crash = None

    # -- timing ---------------------------------------------------------
    def timed(self, kind, func):
        start = time.time()
        try:
            result = func()
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            self.calls.append(
                (kind, start, time.time(), f"{type(exc).__name__}: {exc}")
            )
            if isinstance(exc, RpcError) and exc.name == SESSION_EXPIRED:
                # Odoo ended the session (a request of it met the database
                # restarting): log in again, as a user would
                self.web = None
            time.sleep(PAUSE_AFTER_ERROR)
            return FAILED
        self.calls.append((kind, start, time.time(), None))
        return result

    def _change(self, kind, lead_ids, stage, token, result):
        """A change the history must show once (acknowledged) or at most
        once (failed): kind "stage", "won", "lost" or "restore"."""
        self.changes.append(
            {
                "thread": self.number,
                "seq": len(self.changes),
                "kind": kind,
                "leads": list(lead_ids),
                "stage": stage,
                "token": token,
                "ok": result is not FAILED,
            }
        )

    # -- the web client's calls -----------------------------------------
    def screen(self, name):
        func = self.world["screens"][self.number][name]
        self.timed(name.removeprefix("screen: "), func)

    def _one_open(self):
        ready = self._open()
        return ready[0] if ready else None

    def _open(self, count=1):
        ready = [
            lead_id
            for lead_id, (_stage, state) in self.own.items()
            if state == "open" and lead_id not in self.uncertain
        ]
        return self.rng.sample(ready, min(count, len(ready)))

    def resync(self):
        """Read the own opportunities an error left in doubt."""
        ids = sorted(self.uncertain)
        result = self.timed(
            "read (after an error)",
            lambda: self.web.call(
                "crm.lead",
                "search_read",
                [("id", "in", ids)],
                ["stage_id", "active"],
                context={"active_test": False},
            ),
        )
        if result is FAILED:
            return
        for record in result:
            stage = record["stage_id"][0]
            state = (
                "lost"
                if not record["active"]
                else ("won" if stage == self.stages[WON - 1] else "open")
            )
            self.own[record["id"]] = [stage, state]
            self.uncertain.discard(record["id"])
            if state != "open":
                self._drop_activities(record["id"])

    def _drop_activities(self, lead_id):
        # winning or losing closes the next actions (SPEC)
        for activity, lead in list(self.activities.items()):
            if lead == lead_id:
                del self.activities[activity]

    def move(self, lead_ids, kind):
        """Move own opportunities to a stage none of them is in, with a
        new expected revenue (the token): one from the form, several from
        the list."""
        if not lead_ids:
            return
        current = {self.own[lead_id][0] for lead_id in lead_ids}
        stage = self.rng.choice([s for s in self.stages[:16] if s not in current])
        self.token += 1
        values = {"stage_id": stage, "expected_revenue": self.token}
        if len(lead_ids) == 1:
            result = self.timed(
                kind,
                lambda: self.web.call(
                    "crm.lead",
                    "web_save",
                    lead_ids,
                    values,
                    specification={"stage_id": {}, "probability": {}},
                ),
            )
        else:
            result = self.timed(
                kind, lambda: self.web.call("crm.lead", "write", lead_ids, values)
            )
        self._change("stage", lead_ids, stage, self.token, result)
        for lead_id in lead_ids:
            if result is FAILED:
                self.uncertain.add(lead_id)
            else:
                self.own[lead_id][0] = stage

    def move_shared(self):
        """Move one group of the shared opportunities within my stages, to
        one they cannot be in (a failed call may or may not have moved them:
        when every stage of mine is in doubt, read where they are)."""
        group = self.rng.choice(self.shared)
        lead_ids, stages, doubt = group
        free = [stage for stage in stages if stage not in doubt]
        if not free:
            result = self.timed(
                "read (after an error)",
                lambda: self.web.call(
                    "crm.lead", "search_read", [("id", "in", lead_ids)], ["stage_id"]
                ),
            )
            if result is FAILED:
                return
            group[2] = doubt = {record["stage_id"][0] for record in result} & set(
                stages
            )
            free = [stage for stage in stages if stage not in doubt]
        stage = self.rng.choice(free)
        self.token += 1
        values = {"stage_id": stage, "expected_revenue": self.token}
        kind = "move a shared opportunity" + (
            " (batch)" if len(lead_ids) > 1 else " (form)"
        )
        result = self.timed(
            kind, lambda: self.web.call("crm.lead", "write", lead_ids, values)
        )
        self._change("stage", lead_ids, stage, self.token, result)
        group[2] = doubt | {stage} if result is FAILED else {stage}

    def win(self):
        lead_id = self._one_open()
        if lead_id is None:
            return
        result = self.timed(
            "win",
            lambda: self.web.button("crm.lead", "action_set_won_rainbowman", [lead_id]),
        )
        self._change("won", [lead_id], self.stages[WON - 1], None, result)
        self._closed(lead_id, "won", result)

    def lose(self):
        lead_id = self._one_open()
        if lead_id is None:
            return

        def lose():
            [wizard] = self.web.call(
                "crm.lead.lost",
                "web_save",
                [],
                {
                    "lead_ids": [(6, 0, [lead_id])],
                    "lost_reason_id": self.world["lost_reason"],
                },
                specification={},
                context={"active_model": "crm.lead", "active_ids": [lead_id]},
            )
            return self.web.button(
                "crm.lead.lost", "action_lost_reason_apply", [wizard["id"]]
            )

        result = self.timed("lose (the wizard)", lose)
        self._change("lost", [lead_id], None, None, result)
        self._closed(lead_id, "lost", result)

    def _closed(self, lead_id, state, result):
        if result is FAILED:
            self.uncertain.add(lead_id)
        else:
            self.own[lead_id][1] = state
            self._drop_activities(lead_id)

    def restore(self):
        lost = [
            lead_id
            for lead_id, (_stage, state) in self.own.items()
            if state == "lost" and lead_id not in self.uncertain
        ]
        if not lost:
            return self.move(self._open(), "move (form)")
        lead_id = self.rng.choice(lost)
        result = self.timed(
            "restore",
            lambda: self.web.button("crm.lead", COMPAT.RESTORE_METHOD, [lead_id]),
        )
        self._change("restore", [lead_id], None, None, result)
        if result is FAILED:
            self.uncertain.add(lead_id)
        else:
            self.own[lead_id][1] = "open"

    def plan_activity(self):
        lead_id = self._one_open()
        if lead_id is None:
            return
        result = self.timed(
            "plan an activity",
            lambda: self.web.call(
                "mail.activity",
                "web_save",
                [],
                {
                    "res_model_id": self.world["lead_model"],
                    "res_id": lead_id,
                    "activity_type_id": self.world["activity_type"],
                    "summary": "Telefon do klienta",
                    "date_deadline": str(self.world["today"]),
                    "user_id": self.user["uid"],
                },
                specification={},
                context={
                    "default_res_model": "crm.lead",
                    "default_res_id": lead_id,
                },
            ),
        )
        if result is not FAILED:
            self.activities[result[0]["id"]] = lead_id

    def activity_done(self):
        if not self.activities:
            return self.plan_activity()
        activity = self.rng.choice(sorted(self.activities))
        result = self.timed(
            "mark an activity done",
            lambda: self.web.call(
                "mail.activity", "action_feedback", [activity], feedback="Zrobione"
            ),
        )
        # done, or in doubt: not marked done again either way
        del self.activities[activity]
        return result

    # -- a day's work ---------------------------------------------------
    # a day's round, in turns: each client starts at a different point of
    # its role's (one salesperson wins first, another loses first, ...)
    SALESPERSON = [
        "pipeline",
        "move (form)",
        "plan",
        "move shared",
        "win",
        "move (list)",
        "board",
        "done",
        "lose",
        "move (form)",
        "report",
        "restore",
    ]
    MANAGER = ["pipeline", "move shared", "report", "board", "move shared", "report"]
    BOARD = [
        "screen: funnel board (this month)",
        "screen: funnel board (12 months)",
        "screen: funnel board (open now)",
    ]
    REPORTS = [
        "screen: funnel graph",
        "screen: funnel pivot",
        "screen: Prognoza sprzedaży",
        "screen: Analiza etapów",
        "screen: Tempo sprzedaży",
        "screen: Prognoza a wykonanie",
    ]

    def act(self, action):
        if action == "pipeline":
            self.screen(
                "screen: pipeline (my pipeline, a salesperson)"
                if self.user["role"] == "salesperson"
                else "screen: pipeline (every salesperson, a manager)"
            )
        elif action == "move (form)":
            self.move(self._open(), action)
        elif action == "move (list)":
            self.move(self._open(self.rng.randint(2, 5)), action)
        elif action == "move shared" and self.shared:
            self.move_shared()
        elif action == "move shared":  # a salesperson who shares none
            self.move(self._open(), "move (form)")
        elif action == "win":
            self.win()
        elif action == "lose":
            self.lose()
        elif action == "restore":
            self.restore()
        elif action == "plan":
            self.plan_activity()
        elif action == "done":
            self.activity_done()
        elif action == "board":
            self.screen(self.rng.choice(self.BOARD))
        else:
            self.screen(self.rng.choice(self.REPORTS))

    def worked_after_faults(self):
        done = self.clock["faults"].get("restart", {}).get("done")
        return done is not None and any(
            start > done and not error for _kind, start, _end, error in self.calls
        )

    def login(self):
        login = self.user["login"]
        web = self.timed(
            "log in", lambda: WebSession(self.port, DB, login, _password(login))
        )
        if web is not FAILED:
            if web.id != self.user["uid"]:
                raise RuntimeError(f"{login} logged in as {web.id}")
            self.web = web

    def run(self):
        try:
            # logged in before the day starts, all together
            while self.web is None and time.time() < self.clock["login_until"]:
                self.login()
            self.clock["barrier"].wait(timeout=LOGIN_SECONDS)
            day = (
                self.SALESPERSON if self.user["role"] == "salesperson" else self.MANAGER
            )
            turn = self.user["offset"]
            while time.time() < self.clock["deadline"] or (
                # past the deadline, on until a call made after the faults
                # succeeded (at most OVERTIME seconds)
                not self.worked_after_faults()
                and time.time() < self.clock["deadline"] + OVERTIME
            ):
                if self.web is None:
                    self.login()
                elif self.uncertain:
                    self.resync()
                else:
                    self.act(day[turn % len(day)])
                    turn += 1
        except Exception:  # noqa: BLE001 - reported by the test
            self.crash = traceback.format_exc()


# ----------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------


def _assign(cnx, setup):
    """Each salesperson's own open opportunities; per team, two of its first
    salesperson's shared with the team's manager (and one of them with the
    director): the groups each user moves, and the stages it moves them in."""
    stages = setup["stages"]
    with cnx.cursor() as cr:
        cr.execute(
            """SELECT user_id, id, stage_id FROM crm_lead
                WHERE active AND type = 'opportunity' AND stage_id = ANY(%s)
                ORDER BY user_id, id""",
            [stages[:16]],
        )
        open_leads = defaultdict(list)
        for user_id, lead_id, stage in cr.fetchall():
            open_leads[user_id].append((lead_id, stage))
    users = setup["users"]
    director = next(user for user in users if user["role"] == "director")
    director.update(own=[], shared=[])
    director_group, initial = [], {}
    for team in range(1, len(CITIES) + 1):
        members = [user for user in users if user["team"] == team]
        manager = next(user for user in members if user["role"] == "manager")
        salespeople = [user for user in members if user["role"] == "salesperson"]
        for person in salespeople:
            person.update(own=open_leads[person["uid"]], shared=[])
        first = salespeople[0]
        (a, initial[a]), (b, initial[b]) = first["own"][:2]
        first["own"] = first["own"][2:]
        first["shared"] = [
            ([a], SHARED_STAGES["salesperson"]),
            ([b], SHARED_STAGES["salesperson"]),
        ]
        manager.update(own=[], shared=[([a, b], SHARED_STAGES["manager"])])
        director_group.append(a)
    director["shared"] = [(director_group, DIRECTOR_STAGES)]
    # the stages (ids) each moves its groups within, and those of them the
    # opportunities may stand in already
    for user in users:
        user["shared"] = [
            (
                ids,
                [stages[number - 1] for number in numbers],
                sorted(
                    {initial[lead_id] for lead_id in ids}
                    & {stages[number - 1] for number in numbers}
                ),
            )
            for ids, numbers in user["shared"]
        ]
    # where each starts its role's round
    for role in ("salesperson", "manager"):
        of_role = [
            user
            for user in users
            if (user["role"] == "salesperson") == (role == "salesperson")
        ]
        for offset, user in enumerate(of_role):
            user["offset"] = offset
    return users


def _http_workers(master):
    """The master's HTTP workers (not its websocket process)."""
    workers = []
    for pid in children(master):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                # the websocket process: <python> <launcher> gevent ...
                if file.read().split(b"\0")[2:3] != [b"gevent"]:
                    workers.append(pid)
        except FileNotFoundError:
            continue
    return workers


def _kill_worker_mid_request(master, port, faults):
    """SIGKILL an HTTP worker while it serves a request (it holds a client's
    connection), and wait for the master to start another."""
    deadline = time.monotonic() + 20
    victim = None
    while victim is None and time.monotonic() < deadline:
        workers = _http_workers(master)
        busy = serving(workers, port)
        if busy:
            victim = busy[0]
            at = time.time()
            os.kill(victim, signal.SIGKILL)
            faults["kill"] = {"pid": victim, "at": at, "workers": workers}
        else:
            time.sleep(0.02)
    assert victim, "no worker was seen serving a request for 20 s"
    while time.monotonic() < deadline + 30:
        workers = _http_workers(master)
        if victim not in workers and len(workers) == WORKERS:
            faults["kill"]["replaced_after"] = round(time.time() - at, 2)
            faults["kill"]["workers_after"] = workers
            return
        time.sleep(0.1)
    faults["kill"]["workers_after"] = _http_workers(master)


def _faults(cluster, master, port, start, seconds, faults):
    try:
        time.sleep(max(0, start + KILL_AT * seconds - time.time()))
        _kill_worker_mid_request(master, port, faults)
        time.sleep(max(0, start + RESTART_AT * seconds - time.time()))
        faults["restart"] = {"at": time.time()}
        cluster.restart("fast")
        faults["restart"]["done"] = time.time()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        faults["error"] = repr(exc)


def _screens(client, setup, today):
    """The screens of one client, as its web client makes their calls (in
    its session of the moment)."""

    def call(_user, model, method, *args, **kwargs):
        return client.web.call(model, method, *args, **kwargs)

    def field_type(model, name):
        return setup["field_types"].get(model, {}).get(name)

    me = types.SimpleNamespace(id=client.user["uid"])
    return dict(
        SCREENS.screens(
            call,
            me,
            me,
            odoo_19=COMPAT.ODOO_19,
            today=today,
            field_type=field_type,
        )
    )


@pytest.fixture(scope="module")
def load_run(tmp_path_factory):
    if MODE not in SECONDS:
        pytest.fail(f"SALES_FUNNEL_PL_LOAD={MODE}: 'long', or unset for the CI mode")
    seconds = SECONDS[MODE]
    data_dir = tmp_path_factory.mktemp("load-data")
    log_dir = LOG_DIR / f"load-{MODE}"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    began = time.monotonic()
    with private_cluster() as cluster:
        options = [*cluster.odoo_options(), f"--data-dir={data_dir}"]
        run(DB, "-i", "sales_funnel_pl", *WITHOUT_DEMO, "--stop-after-init", *options)
        installed = time.monotonic()
        logins = [
            f"handlowiec.{team}.{i}"
            for team in range(1, len(CITIES) + 1)
            for i in range(1, SALESPEOPLE + 1)
        ] + [f"kierownik.{team}" for team in range(1, len(CITIES) + 1)]
        logins.append("dyrektor.sprzedazy")
        constants = (
            f"POPULATE = {str(REPO / 'bench' / 'populate.py')!r}\n"
            f"PASSWORDS = { ({login: _password(login) for login in logins})!r}\n"
            f"TZ = {TZ!r}\nGROUPS_FIELD = {USER_GROUPS_FIELD!r}\n"
            f"CITIES = {CITIES!r}\nSALESPEOPLE = {SALESPEOPLE}\nLEADS = {LEADS}\n"
        )
        setup = shell(DB, constants + SETUP, args=options)
        populated = time.monotonic()
        cnx = cluster.connect(DB)
        try:
            users = _assign(cnx, setup)
            with cnx.cursor() as cr:
                cr.execute("SELECT COALESCE(max(id), 0) FROM crm_lead_stage_history")
                history_before = cr.fetchone()[0]
        finally:
            cnx.close()
        today = datetime.now(ZoneInfo(TZ)).date()
        world = {
            "stages": setup["stages"],
            "lost_reason": setup["lost_reason"],
            "activity_type": setup["activity_type"],
            "lead_model": setup["lead_model"],
            "today": today,
            "screens": {},
        }
        server, port, logfile = start_server(
            log_dir,
            DB,
            *options,
            "--limit-time-real=900",
            "--limit-time-cpu=900",
            "--limit-request=1000000",
            workers=WORKERS,
            name="odoo-load",
        )
        faults = {}
        try:
            clock = {"login_until": time.time() + LOGIN_SECONDS, "faults": faults}

            def day_starts():
                clock["start"] = time.time()
                clock["deadline"] = clock["start"] + seconds

            clock["barrier"] = threading.Barrier(len(users) + 1, action=day_starts)
            clients = []
            for number, user in enumerate(users):
                client = Client(number, user, world, port, clock)
                world["screens"][number] = _screens(client, setup, today)
                clients.append(client)
            for client in clients:
                client.start()
            clock["barrier"].wait(timeout=LOGIN_SECONDS)
            start = clock["start"]
            fault_thread = threading.Thread(
                target=_faults, args=(cluster, server.pid, port, start, seconds, faults)
            )
            fault_thread.start()
            for client in [*clients, fault_thread]:
                client.join(timeout=seconds + 600)
            assert not any(client.is_alive() for client in clients), "clients hang"
            ended = time.time()
        finally:
            stop_server(server)
        reached = shell(DB, REACHED, args=options)
        cnx = cluster.connect(DB)
        cnx.autocommit = False  # the history is read through a named cursor
        try:
            with cnx.cursor() as cr:
                cr.execute("SELECT id FROM crm_lead ORDER BY id")
                all_ids = [row[0] for row in cr.fetchall()]
            leads = read_leads(cnx, all_ids)
            problems, new_rows = _history_problems(
                cnx, all_ids, leads, setup, history_before
            )
        finally:
            cnx.close()
        checked = time.monotonic()
    result = {
        "setup": setup,
        "users": users,
        "clients": clients,
        "faults": faults,
        "start": start,
        "ended": ended,
        "seconds": seconds,
        "log": log_records(logfile, times=True),
        "logfile": logfile,
        "reached": reached,
        "leads": leads,
        "chain_problems": problems,
        "new_rows": new_rows,
        "times": {
            "install": round(installed - began),
            "company": round(populated - installed),
            "load": round(ended - start),
            "total": round(checked - began),
        },
    }
    _report(result)
    return result


def _history_problems(cnx, all_ids, leads, setup, history_before):
    """The chain's problems of every opportunity ({lead id: problems}), and
    the rows written during the run ({lead id: [rows]})."""
    won = setup["stages"][WON - 1]
    problems, new_rows, seen = {}, {}, set()
    for lead_id, rows in iter_history(cnx, all_ids):
        seen.add(lead_id)
        found = chain_problems(rows, leads[lead_id], won)
        if found:
            problems[lead_id] = found
        new = [row for row in rows if row["id"] > history_before]
        if new:
            new_rows[lead_id] = new
    for lead_id in set(all_ids) - seen:
        problems[lead_id] = [("no history",)]
    return problems, new_rows


# ----------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------


def _in_fault(call, faults):
    """Whether a call was in flight during a fault: running when the worker
    was killed, or while PostgreSQL restarted."""
    _kind, start, end, _error = call
    kill = faults.get("kill", {}).get("at")
    restart = faults.get("restart", {})
    return (kill is not None and start <= kill <= end) or (
        "done" in restart and start <= restart["done"] and end >= restart["at"]
    )


def _errors(client, faults):
    """The client's failed calls, each with whether the faults explain it:
    in flight during one, or the first call after the restart with the
    session Odoo ended then (the client then logs in again)."""
    restart = faults.get("restart", {}).get("at", math.inf)
    errors, expired = [], False
    for call in client.calls:
        if not call[3]:
            continue
        allowed = _in_fault(call, faults)
        if not allowed and SESSION_EXPIRED in call[3] and call[1] >= restart:
            allowed, expired = not expired, True
        errors.append((call, allowed))
    return errors


def _p95(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _figures(result):
    calls = defaultdict(list)
    allowed = set()
    for client in result["clients"]:
        for call in client.calls:
            calls[call[0]].append(call)
        allowed |= {id(call) for call, ok in _errors(client, result["faults"]) if ok}
    figures = {}
    for kind in sorted(calls):
        times = [end - start for _k, start, end, error in calls[kind] if not error]
        errors = [call for call in calls[kind] if call[3]]
        figures[kind] = {
            "count": len(calls[kind]),
            "median_s": round(statistics.median(times), 3) if times else None,
            "p95_s": round(_p95(times), 3) if times else None,
            "errors": len(errors),
            "errors_in_faults": sum(1 for call in errors if id(call) in allowed),
        }
    return figures


def _error_list(result):
    """Every failed call: its type, when (seconds into the load), how long
    it took, what it said, and whether the faults explain it."""
    return sorted(
        (
            {
                "call": call[0],
                "user": client.user["login"],
                "at_s": round(call[1] - result["start"], 2),
                "took_s": round(call[2] - call[1], 2),
                "error": call[3][:300],
                "in_the_faults": ok,
            }
            for client in result["clients"]
            for call, ok in _errors(client, result["faults"])
        ),
        key=lambda error: error["at_s"],
    )


def _report(result):
    figures = _figures(result)
    load = os.getloadavg()
    faults = {
        name: {key: value for key, value in fault.items() if key != "workers"}
        for name, fault in result["faults"].items()
        if isinstance(fault, dict)
    }
    report = {
        "series": SERIES,
        "mode": MODE,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "load_average_after": [round(value, 2) for value in load],
        "opportunities": len(result["leads"]),
        "company": result["setup"]["counts"],
        "clients": len(result["clients"]),
        "workers": WORKERS,
        "seconds": result["seconds"],
        "times_s": result["times"],
        "faults": faults,
        "calls": sum(figure["count"] for figure in figures.values()),
        "figures": figures,
        "errors": _error_list(result),
    }
    result["report"] = report
    path = LOG_DIR / ("load.json" if MODE == "ci" else f"load-{MODE}.json")
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    lines = [
        f"\nOdoo {SERIES}, {report['date']}, {report['machine']}, mode {MODE}: "
        f"{report['clients']} clients, {WORKERS} workers, {result['seconds']} s, "
        f"{report['opportunities']} opportunities; load average after "
        f"{report['load_average_after']}; {path}",
        "",
        "| call | count | median (s) | 95th percentile (s) | errors (in the faults) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, figure in figures.items():
        median = figure["median_s"]
        p95 = figure["p95_s"]
        lines.append(
            f"| {kind} | {figure['count']} | "
            f"{'—' if median is None else f'{median:.3f}'} | "
            f"{'—' if p95 is None else f'{p95:.3f}'} | "
            f"{figure['errors']} ({figure['errors_in_faults']}) |"
        )
    print("\n".join(lines))


# ----------------------------------------------------------------------
# the checks
# ----------------------------------------------------------------------


def test_faults_happened_and_the_master_replaced_the_worker(load_run):
    faults = load_run["faults"]
    assert "error" not in faults, faults
    kill = faults["kill"]
    assert kill["pid"] in kill["workers"] and len(kill["workers"]) == WORKERS, kill
    assert kill.get("replaced_after") is not None, kill
    assert kill["pid"] not in kill["workers_after"], kill
    assert faults["restart"]["done"] > faults["restart"]["at"], faults


def test_no_error_but_in_the_faults(load_run):
    """Every call succeeded but those in flight during a fault (and the first
    one with the session Odoo ended during the restart); every client kept
    working afterwards."""
    crashed = {c.user["login"]: c.crash for c in load_run["clients"] if c.crash}
    assert crashed == {}, crashed
    unexpected = [
        error for error in load_run["report"]["errors"] if not error["in_the_faults"]
    ]
    assert unexpected == [], unexpected[:10]
    idle = [c.user["login"] for c in load_run["clients"] if not c.worked_after_faults()]
    assert idle == [], idle


def test_server_log_no_error_but_retried_or_in_the_faults(load_run):
    faults = load_run["faults"]
    windows = [
        (faults["kill"]["at"] - 1, faults["kill"]["at"] + 2),
        (faults["restart"]["at"] - 1, faults["restart"]["done"] + 2),
    ]
    log = retried_errors(load_run["log"])
    unexpected = [
        record
        for record in log["errors"]
        if not any(begin <= record[4] <= end for begin, end in windows)
    ]
    print(
        f"\nconcurrency errors retried by Odoo: {len(log['retries'])}; errors in the "
        f"faults' moments: {len(log['errors']) - len(unexpected)}; "
        f"log {load_run['logfile']}"
    )
    assert unexpected == [], unexpected[:5]
    assert log["out_of_tries"] == []


def test_every_history_is_one_chain(load_run):
    problems = load_run["chain_problems"]
    assert len(load_run["leads"]) == LEADS
    assert problems == {}, (len(problems), dict(list(problems.items())[:5]))


def test_furthest_stage_is_the_one_recomputed(load_run):
    reached = load_run["reached"]
    assert reached["leads"] == LEADS
    assert reached["differ"] == [], reached["differ"][:10]


def _matches(row, pattern):
    kind, stage, token = pattern
    return (
        row["change_type"] == kind
        and (stage is None or row["stage_id"] == stage)
        and (token is None or row["expected_revenue"] == token)
    )


def _subsequence(rows, changes):
    """Whether ``rows`` are ``changes`` (in order) less some that failed:
    each acknowledged change exactly once, a failed one at most once."""
    # reach[j]: the first j rows are matched by the changes seen so far
    reach = {0}
    for change in changes:
        pattern = (change["kind"], change["stage"], change["token"])
        step = {j + 1 for j in reach if j < len(rows) and _matches(rows[j], pattern)}
        reach = step if change["ok"] else reach | step
    return len(rows) in reach


def test_every_acknowledged_change_is_in_the_history_once_in_order(load_run):
    changes = [change for client in load_run["clients"] for change in client.changes]
    acknowledged = Counter(change["kind"] for change in changes if change["ok"])
    print(f"\nchanges acknowledged: {dict(acknowledged)}")
    assert acknowledged["stage"] and acknowledged["won"] and acknowledged["lost"]
    by_token = {change["token"]: change for change in changes if change["token"]}
    # the user that wins, loses and restores an opportunity: its salesperson
    owner = {
        lead_id: change["thread"]
        for change in changes
        if change["kind"] != "stage"
        for lead_id in change["leads"]
    }
    per_thread = defaultdict(list)  # (thread, lead) -> its changes, in order
    for change in changes:
        for lead_id in change["leads"]:
            per_thread[change["thread"], lead_id].append(change)
    rows_of = defaultdict(list)  # (thread, lead) -> the rows it made, in order
    strangers = []
    for lead_id, rows in load_run["new_rows"].items():
        for row in rows:
            if row["change_type"] == "stage":
                change = by_token.get(int(row["expected_revenue"]))
                thread = change and change["thread"]
                if change is None or lead_id not in change["leads"]:
                    thread = None
            else:
                thread = owner.get(lead_id)
            if thread is None:
                strangers.append(row)
            else:
                rows_of[thread, lead_id].append(row)
    assert strangers == [], strangers[:5]
    wrong = [
        (key, [change["seq"] for change in expected], rows_of.get(key, []))
        for key, expected in per_thread.items()
        if not _subsequence(rows_of.get(key, []), expected)
    ]
    assert wrong == [], wrong[:5]
    # several users moved the same opportunities at once
    shared = [
        lead_id
        for lead_id in load_run["new_rows"]
        if len({thread for thread, lead in rows_of if lead == lead_id}) > 1
    ]
    assert shared, "no opportunity was moved by several users"
