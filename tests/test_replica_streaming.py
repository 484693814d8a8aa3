# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The addon on a real read replica: Odoo with --workers=2 on a private
PostgreSQL primary, its reads marked ``@api.readonly`` sent to a hot standby
streaming from it (--db_replica_host/--db_replica_port).

The primary and the replica (tests/pg_replica.py: ``pg_basebackup -R``, each
on its own port and socket directory) get the addon with its demo data and
Polish; the server then runs on loopback. As a Polish salesperson of the demo
and as the administrator (a sales manager), through JSON-RPC as the web
client calls it, every screen the web client opens (bench/screens.py: the
pipeline, the funnel's graph and pivot, the four reports, the funnel board)
answers, and each ran on the replica: both clusters load pg_stat_statements,
its counters are reset before each screen, and afterwards the replica holds
the screen's statements (on each table it reads) while the primary ran none
touching an opportunity, a stage or a report ("Dopasowanie lejka", which its
menu computes and saves, the other way round: all on the primary). The server
log holds no error
and no read Odoo had to retry on the primary ("retrying with a read/write
cursor": a read that wrote).

Writes (a stage change, a win, the reminder's scheduled action run by hand,
saving the forecast) run on the primary and reach the replica. With the
replica's replay paused (``pg_wal_replay_pause()``), an opportunity moved and
another won on the primary: every screen still answers, with the data from
before the change (the board's bands unchanged, the moved opportunity in its
old stage), and shows the change once replay resumes.
"""

import datetime
import importlib.util
import os
import re
import time
from unittest.mock import ANY
from zoneinfo import ZoneInfo

import pytest
from odoo_cli import ODOO_19, REPO, WITH_DEMO, run, shell
from odoo_server import WebSession, log_records, start_server, stop_server
from pg_replica import query, replication, wait_for

DB = os.environ.get("SALES_FUNNEL_PL_REPLICA_DB", "sales_funnel_pl_replica")
MANAGER = ("admin", "admin")
SALESPERSON = ("m.lewandowska", "m.lewandowska")
# a change reaches the replica within this (streaming: well under a second
# on an idle machine; a loaded one replays later)
REPLAY_TIMEOUT = 60

_spec = importlib.util.spec_from_file_location(
    "sales_funnel_pl_screens", REPO / "bench" / "screens.py"
)
screens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screens)

SETUP = """
from datetime import datetime
from zoneinfo import ZoneInfo

# the demo's salespeople work in Polish (login = password), as scripts/demo
# leaves them, and so does the administrator
for login in ("m.lewandowska", "k.wisniewska", "t.zielinski"):
    env["res.users"].search([("login", "=", login)]).write(
        {"lang": "pl_PL", "password": login, "tz": "Europe/Warsaw"})
env.ref("base.user_admin").write({"lang": "pl_PL", "tz": "Europe/Warsaw"})
# the test saves today's forecast: none of today is there yet (the install
# rebuilds the forecast of each month's first day, today on the 1st)
today = datetime.now(ZoneInfo("Europe/Warsaw")).date()
env.cr.execute(
    "DELETE FROM sales_funnel_forecast_snapshot WHERE date_snapshot = %s", [today])
stages = {n: env.ref(f"sales_funnel_pl.stage_{n:02d}").id for n in range(1, 18)}
number = {stage_id: n for n, stage_id in stages.items()}
user = env["res.users"].search([("login", "=", "m.lewandowska")])
leads = env["crm.lead"].search([
    ("user_id", "=", user.id), ("type", "=", "opportunity"),
    ("probability", "<", 100), ("stage_id", "in", list(stages.values())),
], order="id")
emit({
    "salesperson": user.id,
    "stages": stages,
    "won_stage": stages[17],
    "open": [[lead.id, number[lead.stage_id.id]] for lead in leads
             if number[lead.stage_id.id] < 16],
    "reminder_cron": env.ref("sales_funnel_pl.ir_cron_next_action_reminders").id,
    "partner_root": env.ref("base.partner_root").id,
})
"""

# "Dopasowanie lejka": its menu (sales managers only) creates the screen's
# record, computed, and the form reads it where it was created, on the
# primary (crm.stage.tuning.web_read is not marked @api.readonly)
ON_PRIMARY = {"screen: Dopasowanie lejka"}
MANAGERS_ONLY = {"screen: Dopasowanie lejka"}

# a statement reading or writing the funnel's data (opportunities, stages,
# their history, the addon's reports and tables): none may run on the
# primary while a screen opens
FUNNEL_TABLES = re.compile(r"\b(crm_lead\w*|crm_stage\w*|sales_funnel_\w+)\b")


@pytest.fixture(scope="session")
def load_registry():
    """Replaces pytest-odoo's fixture of that name for this module: Odoo runs
    in subprocesses here, so no registry (nor --odoo-database) is needed."""
    yield


def _statements(conn):
    """{query: calls} of the database's statements pg_stat_statements
    counted on this cluster since its reset (its own queries left out)."""
    return dict(
        query(
            conn,
            """SELECT query, calls FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s)
                  AND query !~* 'pg_stat_statements'""",
            [DB],
        )
    )


class Replica:
    """The running set-up: the clusters, the server, sessions."""

    def __init__(self, pair, setup, port, logfile):
        self.pair, self.setup, self.port, self.logfile = pair, setup, port, logfile
        self.primary = pair.primary.connect(DB)
        self.replica = pair.replica.connect(DB)
        self.manager = WebSession(port, DB, *MANAGER)
        self.salesperson = WebSession(port, DB, *SALESPERSON)
        assert self.salesperson.id == setup["salesperson"]
        assert self.salesperson.context["lang"] == "pl_PL"
        self.field_types = {}

    def reset(self):
        for conn in (self.primary, self.replica):
            query(conn, "SELECT pg_stat_statements_reset()")

    def statements(self):
        return _statements(self.primary), _statements(self.replica)

    def on_replica(self, sql, params=None):
        return query(self.replica, sql, params)

    def on_primary(self, sql, params=None):
        return query(self.primary, sql, params)

    def field_type(self, model, name):
        if model not in self.field_types:
            self.field_types[model] = {
                field: description["type"]
                for field, description in self.manager.call(
                    model, "fields_get", attributes=["type"]
                ).items()
            }
        return self.field_types[model].get(name)

    def screens(self, session):
        """bench/screens.py's screens, all opened as ``session``'s user:
        [(name, open)], ``open()`` returning the screen's calls, each as
        (model, method, answer)."""
        calls = []

        def call(user, model, method, *args, **kwargs):
            answer = user.call(model, method, *args, **kwargs)
            calls.append((model, method, answer))
            return answer

        def opener(func):
            def open_screen():
                calls.clear()
                func()
                return list(calls)

            return open_screen

        return [
            (name, opener(func))
            for name, func in screens.screens(
                call,
                session,
                session,
                odoo_19=ODOO_19,
                today=datetime.datetime.now(ZoneInfo("Europe/Warsaw")).date(),
                field_type=self.field_type,
            )
            if session is self.manager or name not in MANAGERS_ONLY
        ]

    def every_screen(self):
        """{(user, screen): its calls' answers}, every screen opened as the
        salesperson and as the manager."""
        return {
            (session.login, name): open_screen()
            for session in (self.salesperson, self.manager)
            for name, open_screen in self.screens(session)
        }

    def log(self):
        return log_records(self.logfile)

    def close(self):
        self.primary.close()
        self.replica.close()


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("replica")
    start = time.monotonic()
    with replication() as pair:
        pair.start_primary()
        on_primary = [
            f"--db_host={pair.primary.host}",
            f"--db_port={pair.primary.port}",
        ]
        run(
            DB,
            "-i",
            "sales_funnel_pl",
            *WITH_DEMO,
            "--load-language=pl_PL",
            "--stop-after-init",
            *on_primary,
        )
        setup = shell(DB, SETUP, args=on_primary)
        conn = pair.primary.connect(DB)
        query(conn, "CREATE EXTENSION pg_stat_statements")
        conn.close()
        installed = time.monotonic()
        pair.start_replica()
        server, port, logfile = start_server(
            log_dir,
            DB,
            *on_primary,
            f"--db_replica_host={pair.replica.host}",
            f"--db_replica_port={pair.replica.port}",
            name="odoo-replica",
        )
        print(
            f"\nset-up: install {installed - start:.0f} s, replica and server "
            f"{time.monotonic() - installed:.0f} s; log {logfile}"
        )
        state = None
        try:
            state = Replica(pair, setup, port, logfile)
            yield state
        finally:
            stop_server(server)
            if state is not None:
                state.close()


def _opened_on_the_replica(replica, session):
    """Open every screen as ``session``'s user, each after a reset of the
    counters of both clusters; returns what went wrong, per screen."""
    failures = []
    for name, open_screen in replica.screens(session):
        replica.reset()
        models = {model for model, _method, _answer in open_screen()}
        primary, standby = replica.statements()
        # the screen's own statements: on the table of each model it read;
        # the board's, in SQL of its own, on the opportunities' furthest stage
        marks = {model.replace(".", "_") for model in models} - {"sales_funnel_board"}
        if "sales.funnel.board" in models:
            marks |= {"crm_lead", "stage_reached_id"}
        # "Analiza etapów": a salesperson's from the rows (the report's
        # view), a manager's from the sums the database keeps beside them
        if "sales_funnel_stage_report" in marks:
            marks = marks - {"sales_funnel_stage_report"} | {
                "sales_funnel_stage_(report|rollup)"
            }
        missing = sorted(
            mark
            for mark in marks
            if not any(re.search(rf"\b{mark}\b", text) for text in standby)
        )
        on_primary = sorted(text for text in primary if FUNNEL_TABLES.search(text))
        if name in ON_PRIMARY:
            # the other way round: all on the primary, nothing on the replica
            missing = sorted(
                mark
                for mark in marks
                if not any(re.search(rf"\b{mark}\b", text) for text in primary)
            )
            on_primary = sorted(text for text in standby if FUNNEL_TABLES.search(text))
        if missing or on_primary:
            where = (
                ("primary", "replica") if name in ON_PRIMARY else ("replica", "primary")
            )
            failures.append(
                f"{name}: not on the {where[0]}: {missing}; "
                f"on the {where[1]}: {on_primary}"
            )
    return failures


def _log_problems(replica):
    """Errors in the server's log, and reads Odoo ran again on the primary
    after they tried to write on the replica."""
    return [
        record
        for record in replica.log()
        if record[1] in ("ERROR", "CRITICAL")
        or "retrying with a read/write cursor" in record[3]
    ]


@pytest.mark.parametrize("who", ["salesperson", "manager"])
def test_every_screen_reads_on_the_replica(replica, who):
    session = getattr(replica, who)
    assert _opened_on_the_replica(replica, session) == []
    assert _log_problems(replica) == []


def _replica_shows(replica, what, sql, params, expected):
    """Wait (bounded) until the replica answers ``sql`` with ``expected``;
    say how long it took."""
    seen = []
    start = time.monotonic()

    def arrived():
        seen[:] = replica.on_replica(sql, params)
        return seen == expected

    wait_for(
        f"{what} on the replica",
        arrived,
        timeout=REPLAY_TIMEOUT,
        detail=lambda: f"it shows {seen}, not {expected}",
    )
    print(f"\n{what}: on the replica after {time.monotonic() - start:.2f} s")


def _writes(statements):
    return [
        text
        for text in statements
        if re.match(r"\s*(WITH\b.*)?(INSERT|UPDATE|DELETE)\b", text, re.I | re.S)
    ]


def test_stage_change_and_win_run_on_the_primary_and_reach_the_replica(replica):
    setup = replica.setup
    (moved, number), (won, _number) = setup["open"][:2]
    target = setup["stages"][str(number + 1)]
    replica.reset()
    replica.salesperson.call(
        "crm.lead",
        "web_save",
        [moved],
        {"stage_id": target},
        specification={"stage_id": {}},
    )
    replica.salesperson.button("crm.lead", "action_set_won_rainbowman", [won])
    primary, standby = replica.statements()
    writes = _writes(primary)
    assert any("INSERT INTO crm_lead_stage_history" in text for text in writes), writes
    assert any(re.match(r'\s*UPDATE "crm_lead"\s+SET', text) for text in writes), writes
    assert _writes(standby) == []
    # each in its new stage, its history's open row saying how it got there
    _replica_shows(
        replica,
        "the stage change and the win",
        """SELECT l.id, l.stage_id, h.stage_id, h.change_type FROM crm_lead l
             JOIN crm_lead_stage_history h ON h.lead_id = l.id AND h.date_leave IS NULL
            WHERE l.id IN %s ORDER BY l.id""",
        [(moved, won)],
        sorted(
            [
                (moved, target, target, "stage"),
                (won, setup["won_stage"], setup["won_stage"], "won"),
            ]
        ),
    )
    assert _log_problems(replica) == []


def test_reminder_and_saved_forecast_run_on_the_primary_and_reach_the_replica(replica):
    setup = replica.setup
    [(last_message,)] = replica.on_primary(
        "SELECT COALESCE(max(id), 0) FROM mail_message"
    )
    replica.reset()
    # "Run manually" on the reminder's scheduled action
    replica.manager.button("ir.cron", "method_direct_trigger", [setup["reminder_cron"]])
    reminders = """SELECT count(*) FROM mail_message
                    WHERE id > %s AND author_id = %s AND model = 'res.partner'"""
    params = [last_message, setup["partner_root"]]
    [(sent,)] = replica.on_primary(reminders, params)
    assert sent > 0
    assert any(
        'INSERT INTO "mail_message"' in text
        for text in _writes(replica.statements()[0])
    )
    _replica_shows(replica, "the reminders", reminders, params, [(sent,)])

    today = datetime.datetime.now(ZoneInfo("Europe/Warsaw")).date()
    saved = (
        "SELECT count(*) FROM sales_funnel_forecast_snapshot WHERE date_snapshot = %s"
    )
    assert replica.on_primary(saved, [today]) == [(0,)]
    replica.reset()
    action = replica.manager.button(
        "sales.funnel.forecast.snapshot", "action_take_snapshot", []
    )
    [(lines,)] = replica.on_primary(saved, [today])
    assert lines > 0
    assert str(lines) in action["params"]["message"], action
    assert any(
        "INSERT INTO sales_funnel_forecast_snapshot" in text
        for text in _writes(replica.statements()[0])
    )
    _replica_shows(replica, "the saved forecast", saved, [today], [(lines,)])
    assert _log_problems(replica) == []


def _board_now(session):
    """{stage: open opportunities} of the board's "now" reading."""
    data = session.call(
        "sales.funnel.board",
        "get_board_data",
        reading="now",
        period="last_12_months",
        team_id=False,
        user_id=False,
    )
    return {band["stage_id"]: band["count"] for band in data["bands"]}


def _stages_read(session, ids):
    return {
        row["id"]: (row["stage_id"][0], row["probability"])
        for row in session.call(
            "crm.lead", "search_read", [("id", "in", ids)], ["stage_id", "probability"]
        )
    }


def test_screens_while_the_replica_lags(replica):
    """With the replica's replay paused, an opportunity moved and another
    won: every screen answers exactly as before the change (the data the
    replica last replayed); once replay resumes, the board shows both."""
    setup, salesperson = replica.setup, replica.salesperson
    (moved, number), (won, won_number) = setup["open"][2:4]
    stage_from, stage_to = (setup["stages"][str(n)] for n in (number, number + 1))
    won_from = setup["stages"][str(won_number)]
    board = _board_now(salesperson)
    shown = _stages_read(salesperson, [moved, won])
    assert shown[moved][0] == stage_from and shown[won][0] == won_from
    before = replica.every_screen()
    replica.on_replica("SELECT pg_wal_replay_pause()")
    try:
        wait_for(
            "the replica's replay pauses",
            lambda: replica.on_replica("SELECT pg_get_wal_replay_pause_state()")
            == [("paused",)],
            timeout=REPLAY_TIMEOUT,
        )
        salesperson.call(
            "crm.lead",
            "web_save",
            [moved],
            {"stage_id": stage_to},
            specification={"stage_id": {}},
        )
        salesperson.button("crm.lead", "action_set_won_rainbowman", [won])
        assert replica.on_primary(
            "SELECT id, stage_id, probability FROM crm_lead WHERE id IN %s ORDER BY id",
            [(moved, won)],
        ) == sorted([(moved, stage_to, ANY), (won, setup["won_stage"], 100.0)])
        # every screen answers, as it did before the change
        lagging = replica.every_screen()
        assert _board_now(salesperson) == board
        assert _stages_read(salesperson, [moved, won]) == shown
    finally:
        replica.on_replica("SELECT pg_wal_replay_resume()")
    assert lagging.keys() == before.keys()
    # (the screens read on the primary are computed anew, each time a record)
    assert [
        key
        for key in before
        if key[1] not in ON_PRIMARY and lagging[key] != before[key]
    ] == []
    _replica_shows(
        replica,
        "the move and the win",
        "SELECT id, stage_id FROM crm_lead WHERE id IN %s ORDER BY id",
        [(moved, won)],
        sorted([(moved, stage_to), (won, setup["won_stage"])]),
    )
    expected = dict(board)
    expected[stage_from] -= 1
    expected[stage_to] += 1
    expected[won_from] -= 1
    assert _board_now(salesperson) == expected
    after = _stages_read(salesperson, [moved, won])
    assert after[moved][0] == stage_to and after[won] == (setup["won_stage"], 100)
    # the screens that show the pipeline's stages changed
    caught_up = replica.every_screen()
    changed = {
        name
        for (_login, name) in before
        if caught_up[_login, name] != before[_login, name]
    }
    assert {
        "screen: pipeline (my pipeline, a salesperson)",
        "screen: funnel board (open now)",
    } <= changed, changed
    assert _log_problems(replica) == []
