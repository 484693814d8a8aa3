# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Uninstalling gives crm back what the addon changed on it.

A throw-away database gets `crm` in Polish (its administrator works in
Polish), then the addon, used for a while, then uninstalled from the Apps
menu; each step by Odoo's own command line.

- crm's *Stages* menu: the addon shows it to sales managers (crm shows it in
  developer mode only); it goes back where crm puts it.
- `crm.stage.requirements`, a stage's description (the pipeline column's
  tooltip): plain text in crm, translatable with the addon; the description
  the company reads, in Polish, stays, on the funnel stages kept (they hold
  opportunities) and on the company's own stages.
"""

import os
import subprocess

import pytest
from odoo_cli import USER_GROUPS_FIELD, WITHOUT_DEMO, run, shell

DB = os.environ.get("SALES_FUNNEL_PL_UNINSTALL_DB", "sales_funnel_pl_uninstall")

STATE = """
menu = env.ref("crm.menu_crm_lead_stage_act")
groups = env["res.groups"].search([("menu_access", "in", menu.ids)])
env.cr.execute(
    "SELECT data_type FROM information_schema.columns"
    " WHERE table_name = 'crm_stage' AND column_name = 'requirements'"
)
[column_type] = env.cr.fetchone()
env.cr.execute(
    "SELECT id, requirements FROM crm_stage WHERE id = ANY(%s)", [STAGE_IDS]
)
requirements = {str(stage_id): value for stage_id, value in env.cr.fetchall()}
env.cr.execute("SELECT to_regclass('crm_lead_value_change') IS NOT NULL")
[changes_table] = env.cr.fetchone()
changes = None
if changes_table:
    env.cr.execute("SELECT count(*) FROM crm_lead_value_change")
    [changes] = env.cr.fetchone()
env.cr.execute(
    "SELECT proname FROM pg_proc WHERE proname LIKE 'sales_funnel_pl_%'"
    " ORDER BY proname"
)
functions = [name for name, in env.cr.fetchall()]
env.cr.execute("SELECT to_regclass('sales_funnel_stage_rollup') IS NOT NULL")
[sums_table] = env.cr.fetchone()
emit({
    "functions": functions,
    "sums_table": sums_table,
    "value_changes": changes,
    "recording_since": bool(
        env["ir.config_parameter"].sudo().get_param(
            "sales_funnel_pl.value_changes_since"
        )
    ),
    "menu_groups": sorted(groups.get_external_id().values()),
    "column_type": column_type,
    "requirements": requirements,
})
"""

# before the addon: a company working in Polish (two of its three users), with
# English active for a colleague who works in English, and a stage of its own
# described in Polish
OWN_STAGE = f"""
env["res.lang"]._activate_lang("en_US")
env.ref("base.user_admin").lang = "pl_PL"
users = [("jan", "Jan Kowalski", "pl_PL"), ("john", "John Smith", "en_US")]
for login, name, lang in users:
    env["res.users"].create(
        {{"login": login, "name": name, "lang": lang,
         "{USER_GROUPS_FIELD}": [(4, env.ref("sales_team.group_sale_salesman").id)]}}
    )
stage = env["crm.stage"].create(
    {{"name": "Demo techniczne", "sequence": 50,
      "requirements": "Klient widział demo."}}
)
emit(stage.id)
"""

# with the addon: an opportunity in the funnel's Spotkanie (the stage stays
# at uninstall), and the administrator, in Polish, rewrites the description
# of the company's stage
USE = """
admin = env.ref("base.user_admin")
Stage = env["crm.stage"].with_user(admin).with_context(lang="pl_PL")
meeting = env.ref("sales_funnel_pl.stage_04")
lead = env["crm.lead"].with_user(admin).create(
    {"name": "Modernizacja hali", "type": "opportunity", "stage_id": meeting.id}
)
# a change of its revenue, recorded (crm.lead.value.change)
lead.expected_revenue = 25000
Stage.browse(OWN_STAGE).requirements = "Klient widział demo i przyjął ofertę."
emit(meeting.id)
"""

UNINSTALL = """
module = env["ir.module.module"].search([("name", "=", "sales_funnel_pl")])
module.button_immediate_uninstall()
env.invalidate_all()
emit(module.state)
"""


def _state(stage_ids):
    return shell(DB, f"STAGE_IDS = {stage_ids!r}\n{STATE}")


@pytest.fixture(scope="module")
def database():
    subprocess.run(["dropdb", "--if-exists", DB], check=True)
    run(DB, "-i", "crm", *WITHOUT_DEMO, "--load-language=pl_PL", "--stop-after-init")
    own = shell(DB, OWN_STAGE)
    before = _state([own])
    run(DB, "-i", "sales_funnel_pl", "--stop-after-init")
    meeting = shell(DB, f"OWN_STAGE = {own}\n{USE}")
    installed = _state([own, meeting])
    assert shell(DB, UNINSTALL) == "uninstalled"
    uninstalled = _state([own, meeting])
    yield {
        "own": str(own),
        "meeting": str(meeting),
        "before": before,
        "installed": installed,
        "uninstalled": uninstalled,
    }
    subprocess.run(["dropdb", "--if-exists", DB], check=True)


def test_uninstall_puts_crm_stages_menu_back(database):
    before, installed = database["before"], database["installed"]
    assert before["menu_groups"] == ["base.group_no_one"]
    assert installed["menu_groups"] == ["sales_team.group_sale_manager"]
    assert database["uninstalled"]["menu_groups"] == before["menu_groups"]


def test_uninstall_keeps_stage_descriptions_in_polish(database):
    own, meeting = database["own"], database["meeting"]
    before, installed = database["before"], database["installed"]
    uninstalled = database["uninstalled"]
    assert before["column_type"] == "text"
    assert before["requirements"] == {own: "Klient widział demo."}
    # translatable with the addon: the Polish edit leaves the English as it was
    assert installed["column_type"] == "jsonb"
    assert installed["requirements"] == {
        own: {
            "en_US": "Klient widział demo.",
            "pl_PL": "Klient widział demo i przyjął ofertę.",
        },
        meeting: {
            "en_US": "First meeting with the prospect.",
            "pl_PL": "Pierwsze spotkanie z Prospektem.",
        },
    }
    # crm's plain text again, in the language the company works in
    assert uninstalled["column_type"] == "text"
    assert uninstalled["requirements"] == {
        own: "Klient widział demo i przyjął ofertę.",
        meeting: "Pierwsze spotkanie z Prospektem.",
    }


def test_uninstall_drops_the_value_changes(database):
    """The recorded value changes (a row while installed) go with the
    addon: their table and the start of the recording; crm's opportunity
    stays."""
    assert (
        database["before"]["value_changes"],
        database["before"]["recording_since"],
    ) == (
        None,
        False,
    )
    assert (
        database["installed"]["value_changes"],
        database["installed"]["recording_since"],
    ) == (1, True)
    assert (
        database["uninstalled"]["value_changes"],
        database["uninstalled"]["recording_since"],
    ) == (None, False)


def test_uninstall_drops_the_database_functions(database):
    """The database functions the addon creates (the history's company, the
    stage analysis' marks and the triggers keeping its sums) and the sums'
    table go with it: none outlives the tables it reads."""
    assert database["before"]["functions"] == []
    assert database["before"]["sums_table"] is False
    assert database["installed"]["functions"] == [
        "sales_funnel_pl_history_company",
        "sales_funnel_pl_history_flags",
        "sales_funnel_pl_stage_rollup_history_delete",
        "sales_funnel_pl_stage_rollup_history_insert",
        "sales_funnel_pl_stage_rollup_history_update",
        "sales_funnel_pl_stage_rollup_skip_delete",
        "sales_funnel_pl_stage_rollup_skip_insert",
        "sales_funnel_pl_stage_rollup_skip_update",
    ]
    assert database["installed"]["sums_table"] is True
    assert database["uninstalled"]["functions"] == []
    assert database["uninstalled"]["sums_table"] is False
