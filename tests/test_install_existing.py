# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Install, use and uninstall the addon on a database that already runs CRM.

A throw-away database gets `crm` with Odoo's demo opportunities in Odoo's
default stages, then the addon is installed into it by Odoo's own command
line, then uninstalled, as an administrator would do from the Apps menu.
"""

import os
import subprocess

import pytest
from odoo_cli import SERIES, WITH_DEMO, run, shell

DB = os.environ.get("SALES_FUNNEL_PL_EXISTING_DB", "sales_funnel_pl_existing")


def _odoo(*args, **kwargs):
    return run(DB, *args, **kwargs)


def _shell(code):
    """Run `code` in `odoo shell`; it prints its result with `emit(value)`."""
    return shell(DB, code)


# An opportunity moved twice a year ago, with the chatter's tracking of it.
TRACKED_LEAD = """
# the user works in Warsaw: the last move, 23:30 UTC on 15 March, is 16 March there
env.user.tz = "Europe/Warsaw"
stages = [env.ref(f"crm.stage_lead{n}") for n in (1, 2, 3)]
lead = env["crm.lead"].create({"name": "Tracked", "type": "opportunity",
                               "stage_id": stages[0].id, "expected_revenue": 1000})
env.cr.commit()
env.cr.execute(
    "UPDATE crm_lead SET create_date = '2025-01-10 09:00:00' WHERE id = %s", [lead.id]
)
moves = ((stages[1], "2025-02-01 10:00:00"), (stages[2], "2025-03-15 23:30:00"))
for stage, when in moves:
    lead.write({"stage_id": stage.id})
    env.cr.commit()  # Odoo writes the tracking when the transaction commits
    env.cr.execute(
        "UPDATE mail_message SET date = %s WHERE id = ("
        " SELECT max(m.id) FROM mail_message m"
        " JOIN mail_tracking_value v ON v.mail_message_id = m.id"
        " WHERE m.model = 'crm.lead' AND m.res_id = %s)", [when, lead.id])
    env.cr.execute("UPDATE crm_lead SET date_last_stage_update = %s WHERE id = %s",
                   [when, lead.id])
emit({"lead": lead.id, "stages": [stage.id for stage in stages]})
"""

EDIT_STAGES = """
stage = lambda n: env.ref(f"sales_funnel_pl.stage_{n:02d}")
# renamed so that it still sorts after crm's "New" (same sequence): crm orders
# stages by sequence, then name, and the skipped stages compared below were
# recorded before the rename
stage(1).name = "Nowy lead z targów"
stage(2).probability = 7
stage(3).sequence = 30
stage(5).active = False
env["crm.stage"].create({"name": "Etap firmowy", "sequence": 18, "probability": 12})
env.ref("sales_funnel_pl.ir_cron_next_action_reminders").write(
    {"active": False, "interval_number": 2}
)
env.ref("sales_funnel_pl.mail_activity_type_after_sale").name = "Opieka posprzedażna"
lead = env["crm.lead"].search([("stage_id", "=", stage(4).id)], limit=1)
lead.write({"stage_id": stage(6).id})
# one more move, skipping stage 2 (stage 3 now stands after stage 4)
other = env["crm.lead"].search([("stage_id", "=", stage(1).id)], limit=1)
other.write({"stage_id": stage(4).id})
emit(lead.id)
"""

# What the addon's version 1.0.0 had: no skipped stages nor "moved on" on
# the history rows. The upgrade's migration fills them in. Each series
# prefixes the manifest's version and the migration folders (1.1.0, 1.2.0)
# with its own: 18.0.1.0.0 on 18.0, 19.0.1.0.0 on 19.0.
AS_VERSION_1_0 = f"""
env.cr.execute("DELETE FROM crm_lead_stage_history_skip")
env.cr.execute("UPDATE crm_lead_stage_history SET moved_on = NULL")
env.cr.execute("UPDATE ir_module_module SET latest_version = '{SERIES}.1.0.0'"
               " WHERE name = 'sales_funnel_pl'")
emit(env.cr.rowcount)
"""

# What the reports show on the demo's year of history
DEMO_REPORTS = """
funnel = [env.ref(f"sales_funnel_pl.stage_{n:02d}") for n in range(1, 18)]
Report = env["sales.funnel.stage.report"]
rows = {stage.id: values for stage, *values in Report._read_group(
    [("stage_id", "in", [stage.id for stage in funnel])], ["stage_id"],
    ["entered_count:sum", "lost_count:sum", "duration_days:avg", "days_to_win:avg"])}
won_months = env["sales.funnel.forecast.report"]._read_group(
    [("kind", "=", "won")], ["date:month"], ["won_revenue:sum"])
history = env["crm.lead.stage.history"].search([])
emit({
    "stages": [rows.get(stage.id) for stage in funnel],
    "won_months": len(won_months),
    "lost_rows": len(history.filtered(lambda row: row.change_type == "lost")),
    "skipped_funnel_stages": env["crm.lead.stage.history.skip"].search_count(
        [("stage_id", "in", [stage.id for stage in funnel])]),
    "starters": sorted(set(env["crm.lead"].with_context(active_test=False).search(
        [("stage_id", "in", [stage.id for stage in funnel])]
    ).process_start_user_id.mapped("login"))),
})
"""

# Prognoza a wykonanie of the demo's last 12 months (the current one and the
# 11 before), as the administrator working in Warsaw
DEMO_FORECAST_WON = """
from dateutil.relativedelta import relativedelta
from odoo import fields
Report = env["sales.funnel.forecast.won.report"].with_user(
    env.ref("base.user_admin")).with_context(tz="Europe/Warsaw", sales_funnel_horizon=0)
today = fields.Date.context_today(Report)
rows = Report._read_group(
    [("date", ">=", today.replace(day=1) - relativedelta(months=11)),
     ("date", "<=", today)],
    ["date:month"], ["forecast_revenue:sum", "won_revenue:sum"])
emit([[str(month), forecast, won] for month, forecast, won in rows])
"""

# The forecasts the install rebuilt from the stage history
REBUILT_FORECASTS = """
lines = env["sales.funnel.forecast.snapshot"].search([])
emit({
    "days": sorted({str(line.date_snapshot) for line in lines}),
    "sources": sorted(set(lines.mapped("source"))),
    "spring_2025": {
        str(line.date_snapshot): [line.stage_id.id, line.opportunity_count,
                                  line.expected_revenue, str(line.date_expected)]
        for line in lines if str(line.date_snapshot) < "2025-05-01"
    },
    "demo_months_with_figures": len({
        line.date_snapshot for line in lines
        if line.date_expected and line.prorated_revenue > 0
    }),
})
"""

SNAPSHOT = """
Lead = env["crm.lead"].with_context(active_test=False)
Stage = env["crm.stage"].with_context(active_test=False)
leads = Lead.search([])
env.cr.execute(
    "SELECT res_id, id, date_deadline::text FROM mail_activity"
    " WHERE res_model = 'crm.lead' AND active ORDER BY res_id, id"
)
planned = [list(row) for row in env.cr.fetchall()]
emit({
    "leads": {str(lead.id): [lead.stage_id.id, lead.active, lead.probability]
              for lead in leads},
    "stages": {
        str(stage.id): [stage.name, stage.active if "active" in stage else True]
        for stage in Stage.search([])
    },
    "stage_settings": {
        str(stage.id): [stage.name, stage.sequence, stage.probability, stage.active]
        for stage in Stage.search([])
    } if "probability" in Stage else None,
    "funnel": {str(data.res_id): data.name for data in env["ir.model.data"].search(
        [("module", "=", "sales_funnel_pl"), ("model", "=", "crm.stage")])},
    "history": [
        [row.lead_id.id, row.stage_id.id, row.previous_stage_id.id, row.change_type,
         str(row.date_enter), str(row.date_leave), row.duration_days,
         str(row.date_stage)]
        for row in env["crm.lead.stage.history"].search(
            [], order="lead_id, date_enter, id")
    ] if "crm.lead.stage.history" in env else None,
    "moves": {
        str(row.id): [row.lead_id.id, row.moved_on, row.skipped_stage_ids.ids]
        for row in env["crm.lead.stage.history"].search([])
    } if "crm.lead.stage.history" in env else None,
    "activities": sorted(
        [activity.res_id, activity.summary or "", str(activity.date_deadline)]
        for activity in env["mail.activity"].search([("res_model", "=", "crm.lead")])
    ),
    "admin_edits": [
        [cron.active, cron.interval_number]
        for cron in [env.ref("sales_funnel_pl.ir_cron_next_action_reminders",
                             raise_if_not_found=False)] if cron
    ] + [
        env.ref("sales_funnel_pl.mail_activity_type_after_sale",
                raise_if_not_found=False).name
    ] if "crm.lead.stage.history" in env else None,
    "lead_dates": {str(lead.id): [str(lead.date_stage), str(lead.date_process_start)]
                   for lead in leads} if "date_stage" in env["crm.lead"] else None,
    "reached": {str(lead.id): lead.stage_reached_id.id for lead in leads}
               if "stage_reached_id" in env["crm.lead"] else None,
    "next_actions": {
        str(lead.id): [lead.next_activity_id.id, str(lead.next_action_date)]
        for lead in leads
    } if "next_action_date" in env["crm.lead"] else None,
    # each opportunity's active activities (id, deadline), from the database
    "planned": planned,
})
"""


@pytest.fixture(scope="module")
def database():
    subprocess.run(["dropdb", "--if-exists", DB], check=True)
    _odoo("-i", "crm", *WITH_DEMO, "--stop-after-init")
    unused = _shell(
        'stage = env["crm.stage"].create({"name": "Old Unused", "sequence": 50})\n'
        "emit(stage.id)"
    )
    tracked = _shell(TRACKED_LEAD)
    before = _shell(SNAPSHOT)
    install_log = _odoo("-i", "sales_funnel_pl", "--stop-after-init", log=True)
    installed = _shell(SNAPSHOT)
    demo_reports = _shell(DEMO_REPORTS)
    demo_forecast_won = _shell(DEMO_FORECAST_WON)
    rebuilt = _shell(REBUILT_FORECASTS)
    # the company adapts the funnel, then the addon is upgraded
    _shell(EDIT_STAGES)
    edited = _shell(SNAPSHOT)
    assert _shell(AS_VERSION_1_0) == 1
    _odoo("-u", "sales_funnel_pl", "--stop-after-init")
    upgraded = _shell(SNAPSHOT)
    _shell(
        'env["ir.module.module"].search([("name", "=", "sales_funnel_pl")])'
        ".button_immediate_uninstall()\n"
        # the history's company trigger went with the module: moving an
        # opportunity to another company still works
        'lead = env["crm.lead"].with_context(active_test=False).search([], limit=1)\n'
        'other = env["res.company"].create({"name": "Po odinstalowaniu"})\n'
        'env.cr.execute("UPDATE crm_lead SET company_id = %s WHERE id = %s",'
        " [other.id, lead.id])\n"
        'env.cr.execute("UPDATE crm_lead SET company_id = %s WHERE id = %s",'
        " [lead.company_id.id, lead.id])\n"
        'emit(env["ir.module.module"].search([("name", "=", "sales_funnel_pl")]).state)'
    )
    uninstalled = _shell(SNAPSHOT)
    _odoo("-i", "sales_funnel_pl", "--stop-after-init")
    reinstalled = _shell(SNAPSHOT)
    yield {
        "unused": unused,
        "before": before,
        "installed": installed,
        "demo_reports": demo_reports,
        "demo_forecast_won": demo_forecast_won,
        "rebuilt": rebuilt,
        "edited": edited,
        "upgraded": upgraded,
        "uninstalled": uninstalled,
        "reinstalled": reinstalled,
        "tracked": tracked,
        "install_log": install_log,
    }
    subprocess.run(["dropdb", "--if-exists", DB], check=True)


def test_install_keeps_existing_opportunities_where_they_are(database):
    before, installed = database["before"], database["installed"]
    assert len(before["leads"]) > 0
    for lead_id, (stage_id, active, probability) in before["leads"].items():
        assert installed["leads"][lead_id] == [stage_id, active, probability]


def test_install_sets_next_actions_in_sql(database):
    """The install fills the stored next action of every existing opportunity
    (its earliest active activity: deadline, then creation) itself, in one
    statement, instead of Odoo's record-by-record compute of a new field."""
    before, installed = database["before"], database["installed"]
    earliest = {}
    for res_id, activity_id, deadline in sorted(
        before["planned"], key=lambda row: (row[0], row[2], row[1])
    ):
        earliest.setdefault(str(res_id), [activity_id, deadline])
    assert len(earliest) >= 10
    expected = {
        lead_id: earliest.get(lead_id, [False, "False"]) for lead_id in before["leads"]
    }
    assert {
        lead_id: installed["next_actions"][lead_id] for lead_id in before["leads"]
    } == expected
    log = database["install_log"]
    assert f"sales_funnel_pl: next action set on {len(earliest)} opportunities" in log
    # Odoo's own compute of a new stored field did not run (its models log
    # it at INFO, which the install's log holds)
    assert "Prepare computation of crm.lead.next_action_date" not in log


def test_install_logs_its_progress(database):
    """The history backfill says how far it got, as Odoo logs its own long
    steps: rows done of the total, then the time taken."""
    # the opportunities that existed, and the demo's
    total = len(database["installed"]["leads"])
    lines = [
        line.split(" sales_funnel_pl: ", 1)[1]
        for line in database["install_log"].splitlines()
        if "sales_funnel_pl: stage history: " in line
    ]
    assert [line.split(", in ")[0] for line in lines] == [
        f"stage history: {total} of {total} opportunities"
    ]


def test_install_fills_process_dates_with_their_columns(database):
    """The process dates of the opportunities that existed are written with
    their columns, in one statement (no default written into every
    opportunity first); the demo's, created during the install, by the
    hook."""
    existing = len(database["before"]["leads"])
    demo = len(database["installed"]["leads"]) - existing
    log = database["install_log"]
    assert [
        line.split(" sales_funnel_pl: ", 1)[1].strip()
        for line in log.splitlines()
        if " sales_funnel_pl: process dates set on " in line
    ] == [
        f"process dates set on {existing} opportunities",
        f"process dates set on {demo} opportunities",
    ]
    # Odoo computed none of the addon's new stored fields record by record
    assert "Prepare computation of crm.lead." not in log


def test_install_archives_only_unused_old_stages(database):
    before, installed = database["before"], database["installed"]
    used = {stage_id for stage_id, _active, _p in before["leads"].values()}
    old_stage_ids = set(before["stages"])
    assert str(database["unused"]) in old_stage_ids
    for stage_id in old_stage_ids:
        name, active = installed["stages"][stage_id]
        assert active == (int(stage_id) in used), name
    assert installed["stages"][str(database["unused"])] == ["Old Unused", False]


def test_install_loads_the_funnel_and_its_demo(database):
    installed = database["installed"]
    funnel = installed["funnel"]
    assert sorted(funnel.values()) == [f"stage_{n:02d}" for n in range(1, 18)]
    new = {
        lead_id: values
        for lead_id, values in installed["leads"].items()
        if lead_id not in database["before"]["leads"]
    }
    # 46 demo opportunities and 60 closed ones of the demo's past year
    assert len(new) == 106
    stages_used = {str(stage_id) for stage_id, active, _p in new.values() if active}
    assert stages_used == set(funnel)
    assert sum(1 for _s, active, _p in new.values() if not active) == 44


def test_uninstall_keeps_planned_next_actions(database):
    assert database["upgraded"]["activities"] == database["uninstalled"]["activities"]
    assert len(database["upgraded"]["activities"]) >= 30


def test_uninstall_loses_no_opportunity(database):
    # the state right before the uninstall: after the company's edits and the upgrade
    installed, uninstalled = database["upgraded"], database["uninstalled"]
    assert uninstalled["funnel"] == {}
    assert set(uninstalled["leads"]) == set(installed["leads"])
    for lead_id, (stage_id, active, probability) in installed["leads"].items():
        assert uninstalled["leads"][lead_id] == [stage_id, active, probability]
        assert str(stage_id) in uninstalled["stages"]
    # funnel stages that held no opportunity went away with the module
    used = {str(stage_id) for stage_id, _a, _p in installed["leads"].values()}
    for stage_id in installed["funnel"]:
        assert (stage_id in uninstalled["stages"]) == (stage_id in used)


def test_install_fills_history_from_tracking(database):
    tracked = database["tracked"]
    lead_id = tracked["lead"]
    new, qualified, proposition = tracked["stages"]
    rows = [row for row in database["installed"]["history"] if row[0] == lead_id]
    # days in a stage count from the stage dates, the user's local days
    assert rows == [
        [
            lead_id,
            new,
            False,
            "create",
            "2025-01-10 09:00:00",
            "2025-02-01 10:00:00",
            22.0,
            "2025-01-10",
        ],
        [
            lead_id,
            qualified,
            new,
            "stage",
            "2025-02-01 10:00:00",
            "2025-03-15 23:30:00",
            43.0,
            "2025-02-01",
        ],
        [
            lead_id,
            proposition,
            qualified,
            "stage",
            "2025-03-15 23:30:00",
            "False",
            0.0,
            "2025-03-16",
        ],
    ]
    assert database["installed"]["lead_dates"][str(lead_id)] == [
        "2025-03-16",
        "2025-01-10",
    ]


def _furthest_stages(snapshot):
    """How far each opportunity got, worked out from the snapshot's history
    and stages: its furthest active stage, by sequence, then id."""
    settings = snapshot["stage_settings"]
    reached = {lead_id: False for lead_id in snapshot["leads"]}
    for lead_id, stage_id, *_rest in snapshot["history"]:
        _name, sequence, _probability, active = settings[str(stage_id)]
        best = reached[str(lead_id)]
        if active and (
            not best or (sequence, stage_id) > (settings[str(best)][1], best)
        ):
            reached[str(lead_id)] = stage_id
    return reached


@pytest.mark.parametrize("step", ["installed", "edited", "upgraded", "reinstalled"])
def test_how_far_each_opportunity_got(database, step):
    """Filled by the install from the history, recomputed when the company
    reorders or archives stages (the edit moves stage 3 after stage 4 and
    archives stage 5), kept by the upgrade and the reinstall."""
    snapshot = database[step]
    assert snapshot["reached"] == _furthest_stages(snapshot)
    assert len(set(snapshot["reached"].values()) - {False}) > 3
    if step == "installed":
        tracked = database["tracked"]
        assert snapshot["reached"][str(tracked["lead"])] == tracked["stages"][2]


def test_install_gives_every_existing_opportunity_a_history(database):
    installed = database["installed"]
    open_rows, last_stage = {}, {}
    for lead_id, stage_id, _prev, _type, _enter, leave, _days, _date in installed[
        "history"
    ]:
        last_stage[lead_id] = stage_id
        if leave == "False":
            open_rows[lead_id] = open_rows.get(lead_id, 0) + 1
    assert {str(lead_id) for lead_id in open_rows} == set(installed["leads"])
    assert set(open_rows.values()) == {1}
    for lead_id, (stage_id, _active, _p) in installed["leads"].items():
        assert last_stage[int(lead_id)] == stage_id


def test_upgrade_keeps_stage_edits_and_history(database):
    edited, upgraded = database["edited"], database["upgraded"]
    assert upgraded["stage_settings"] == edited["stage_settings"]
    assert upgraded["history"] == edited["history"]
    assert upgraded["leads"] == edited["leads"]
    # the scheduled action and the activity type as the admin left them
    assert upgraded["admin_edits"] == [[False, 2], "Opieka posprzedażna"]
    names = {name for name, _seq, _p, _a in upgraded["stage_settings"].values()}
    assert {"Nowy lead z targów", "Etap firmowy"} <= names
    assert len(edited["history"]) == len(database["installed"]["history"]) + 2


def test_upgrade_from_1_0_fills_skipped_stages_and_moves(database):
    edited, upgraded = database["edited"], database["upgraded"]
    # the rows of the opportunities that were there before the addon, and
    # the moves made after the company's edits: the migration fills them as
    # the funnel stands at the upgrade, which for them is as it stood then
    # (the demo's year of moves went through stages the company re-ordered)
    leads = {int(lead_id) for lead_id in database["before"]["leads"]}
    installed_rows = set(database["installed"]["moves"])

    def moves(snapshot):
        return {
            row_id: values
            for row_id, values in snapshot["moves"].items()
            if values[0] in leads or row_id not in installed_rows
        }

    # the upgrade started from rows without them (AS_VERSION_1_0) and
    # fills them as at install: the tracked opportunity's moves of 2025 skip
    # none of the stages the install created after them
    expected = moves(edited)
    assert moves(upgraded) == expected
    skipping = [skipped for _lead, _moved, skipped in expected.values() if skipped]
    stage_2 = next(
        int(res_id) for res_id, name in edited["funnel"].items() if name == "stage_02"
    )
    _new, qualified, proposition = database["tracked"]["stages"]
    # the one move that skipped stages: the edits' move from stage 1 to
    # stage 4, past stage 2 and Odoo's own stages holding opportunities,
    # which stay in the funnel, interleaved ("Qualified", "Proposition");
    # the tracked opportunity's move from crm's "New" to "Qualified" (2025)
    # went past stages 1 and 2 only as they stand now: the install made them
    assert skipping == [[stage_2, qualified, proposition]]
    moved_on = sum(1 for _lead, moved, _skipped in moves(edited).values() if moved)
    # the tracked opportunity's two moves (the rows the edits' moves left are
    # demo rows, outside this comparison)
    assert moved_on == 2


def test_reinstall_loses_nothing_and_rebuilds_history(database):
    uninstalled, reinstalled = database["uninstalled"], database["reinstalled"]
    for lead_id, values in uninstalled["leads"].items():
        assert reinstalled["leads"][lead_id] == values
    lead_id = database["tracked"]["lead"]
    rows = [row for row in reinstalled["history"] if row[0] == lead_id]
    assert rows == [
        row for row in database["installed"]["history"] if row[0] == lead_id
    ]
    open_rows = [row for row in reinstalled["history"] if row[5] == "False"]
    assert len(open_rows) == len(reinstalled["leads"])


def test_demo_has_a_year_of_history(database):
    reports = database["demo_reports"]
    stages = reports["stages"]
    # every funnel stage was entered, with real days spent in it (the last
    # one, the won stage, is never left)
    assert all(entered > 0 for entered, _lost, _days, _to_win in stages)
    assert all(days > 0 for _entered, _lost, days, _to_win in stages[:16])
    # opportunities were lost along the funnel, and won after months of work
    assert sum(1 for _entered, lost, _days, _to_win in stages if lost) >= 10
    assert stages[16][3] > 30
    assert reports["won_months"] >= 8
    assert reports["lost_rows"] >= 44
    # some moved past a funnel stage: the demo's stages were there before its
    # year of moves (a move of the past skips only the stages there then)
    assert reports["skipped_funnel_stages"] > 0
    # processes started by the demo's salespeople, never by OdooBot
    assert "__system__" not in reports["starters"]
    assert {"k.wisniewska", "t.zielinski", "m.lewandowska"} <= set(reports["starters"])


def test_demo_forecasts_and_wins_every_month(database):
    months = database["demo_forecast_won"]
    # each of the last 12 months had a forecast saved on its 1st and sales
    # won in it
    assert len(months) == 12
    assert [month for month, forecast, won in months if forecast <= 0 or won <= 0] == []
    # not the same every month: some months beat their forecast, some miss it
    assert any(won > forecast for _month, forecast, won in months)
    assert any(won < forecast for _month, forecast, won in months)


def test_install_rebuilds_past_forecasts_from_the_history(database):
    rebuilt = database["rebuilt"]
    new, qualified, proposition = database["tracked"]["stages"]
    # the first day of each month since the tracked opportunity's first one;
    # it alone was open in the spring of 2025, in the stage of each 1st,
    # without an expected closing date ("Brak")
    assert rebuilt["days"][:4] == [
        "2025-02-01",
        "2025-03-01",
        "2025-04-01",
        "2025-05-01",
    ]
    assert rebuilt["sources"] == ["history"]
    assert rebuilt["spring_2025"] == {
        "2025-02-01": [new, 1, 1000.0, "False"],
        "2025-03-01": [qualified, 1, 1000.0, "False"],
        "2025-04-01": [proposition, 1, 1000.0, "False"],
    }
    # the demo's year: forecasts with figures for most of its months
    assert rebuilt["demo_months_with_figures"] >= 10
