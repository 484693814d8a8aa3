# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from the previous release, 1.2.0, to this one, for real:
the addon as the repository held it before the version went to 1.3.0
(``git archive``) is installed on a throw-away database, an administrator
customises it, then Odoo upgrades it with this tree's code.

1.3.0 renames the transient models (``crm.stage.map``, ``crm.lead.reassign``)
with their views, actions, menus and access rules, and gives inherited views
the ids of the views they inherit: every record keeps its id, and what an
administrator built on them stays. 1.4.0 fills in how far each opportunity
got (``stage_reached_id``) from the stage history the earlier release
wrote."""

import ast
import os
import subprocess

import pytest
from odoo_cli import (
    MANIFEST,
    REPO,
    release_before,
    rule_in_data_file,
    upgrade_release,
)

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_DB", "sales_funnel_pl_upgrade")

# xml ids in 1.2.0 -> in 1.3.0 (the migration's list, written again here)
RENAMED = {
    "model_crm_stage_map_wizard": "model_crm_stage_map",
    "model_crm_stage_map_wizard_line": "model_crm_stage_map_line",
    "model_crm_lead_reassign_wizard": "model_crm_lead_reassign",
    "field_crm_stage_map_wizard__line_ids": "field_crm_stage_map__line_ids",
    "field_crm_lead_reassign_wizard__to_user_id": "field_crm_lead_reassign__to_user_id",
    "crm_stage_map_wizard_view_form": "crm_stage_map_view_form",
    "crm_stage_map_wizard_action": "crm_stage_map_action",
    "crm_stage_map_wizard_menu": "crm_stage_map_menu",
    "crm_lead_reassign_wizard_view_form": "crm_lead_reassign_view_form",
    "crm_lead_reassign_wizard_action": "crm_lead_reassign_action",
    "crm_lead_reassign_wizard_menu": "crm_lead_reassign_menu",
    "access_crm_stage_map_wizard_manager": "access_crm_stage_map_manager",
    "access_crm_stage_map_wizard_line_manager": "access_crm_stage_map_line_manager",
    "access_crm_lead_reassign_wizard_manager": "access_crm_lead_reassign_manager",
    "crm_lead_view_kanban": "crm_case_kanban_view_leads",
    "crm_lead_view_list": "crm_case_tree_view_oppor",
    "crm_lead_view_search": "view_crm_case_opportunities_filter",
    "crm_stage_view_search": "crm_lead_stage_search",
    "crm_stage_view_list": "crm_stage_tree",
    "crm_stage_view_form": "crm_stage_form",
}

# 1.2.0: the ids of the records, and an administrator's own view inheriting
# the stage mapping form, and a favourite filter on the reassignment
BEFORE = """
ids = {{xmlid: env.ref("sales_funnel_pl." + xmlid).id for xmlid in {old!r}}}
view = env["ir.ui.view"].create({{
    "name": "crm.stage.map.wizard.form.custom",
    "model": "crm.stage.map.wizard",
    "inherit_id": ids["crm_stage_map_wizard_view_form"],
    "arch": '<xpath expr="//form" position="inside">'
            '<p class="admin_custom_note">Ask the sales manager first</p></xpath>',
}})
env["ir.filters"].create({{
    "name": "Admin's reassignments", "model_id": "crm.lead.reassign.wizard",
    "domain": "[]",
}})
env["crm.stage.map.wizard"].create({{}})
# an opportunity that got to stage 5, then went back to stage 3
stage = lambda n: env.ref("sales_funnel_pl.stage_%02d" % n)
lead = env["crm.lead"].create({{
    "name": "Back and forth", "type": "opportunity", "stage_id": stage(1).id}})
lead.stage_id = stage(5)
lead.stage_id = stage(3)
rule = env.ref("sales_funnel_pl.sales_funnel_forecast_report_rule_salesman")
emit({{"ids": ids, "custom_view": view.id, "lead": lead.id,
      "forecast_rule": [rule.name, rule.domain_force],
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version}})
"""

FORECAST_RULE = "sales_funnel_forecast_report_rule_salesman"

AFTER = """
FORECAST_RULE = {forecast_rule!r}
ref = lambda xmlid: env.ref("sales_funnel_pl." + xmlid, raise_if_not_found=False)
view = env["ir.ui.view"].browse({custom_view}).exists()
env.cr.execute(
    "SELECT to_regclass(t) IS NOT NULL FROM unnest(%s::text[]) t",
    [["crm_stage_map_wizard", "crm_stage_map_wizard_line", "crm_lead_reassign_wizard",
      "crm_stage_map", "crm_stage_map_line", "crm_lead_reassign"]],
)
tables = [exists for (exists,) in env.cr.fetchall()]
stage_map = env["crm.stage.map"].create({{}})
form = env["crm.stage.map"].get_view(view_type="form")["arch"]
emit({{
    "ids": {{xmlid: ref(xmlid).id if ref(xmlid) else None for xmlid in {new!r}}},
    "old_xmlids": [xmlid for xmlid in {old!r} if ref(xmlid)],
    "models": sorted(m for m in env.registry if m.startswith(
        ("crm.stage.map", "crm.lead.reassign"))),
    "custom_view": [view.model, view.inherit_id.id, view.active] if view else None,
    "custom_note_shown": "admin_custom_note" in form,
    "filter_model": env["ir.filters"].search(
        [("name", "=", "Admin's reassignments")]).model_id,
    "actions": [ref("crm_stage_map_action").res_model,
                ref("crm_lead_reassign_action").res_model],
    "tables": tables,
    "stage_map": bool(stage_map.id),
    "forecast_rule": [ref(FORECAST_RULE).name, ref(FORECAST_RULE).domain_force],
    "version": env["ir.module.module"].search(
        [("name", "=", "sales_funnel_pl")]).latest_version,
    "lead_reached": next(iter(env["crm.lead"].browse({lead})
                              .stage_reached_id.get_external_id().values()), None),
}})
"""


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    old_addons = release_before(
        tmp_path_factory.mktemp("sales_funnel_pl-1.2.0"), "1.3.0", "1.2.0"
    )
    before, after = upgrade_release(
        DB,
        old_addons,
        BEFORE.format(old=list(RENAMED)),
        lambda before: AFTER.format(
            old=list(RENAMED),
            new=list(RENAMED.values()),
            custom_view=before["custom_view"],
            lead=before["lead"],
            forecast_rule=FORECAST_RULE,
        ),
    )
    yield before, after
    subprocess.run(["dropdb", "--if-exists", DB], check=True)


def test_upgrade_runs_from_1_2_0_to_this_version(upgrade):
    before, after = upgrade
    assert before["version"].endswith(".1.2.0")
    manifest = ast.literal_eval((REPO / MANIFEST).read_text())
    assert after["version"].endswith("." + manifest["version"])


def test_how_far_each_opportunity_got_comes_from_its_history(upgrade):
    _before, after = upgrade
    assert after["lead_reached"] == "sales_funnel_pl.stage_05"


def test_renamed_records_keep_their_ids(upgrade):
    before, after = upgrade
    assert after["ids"] == {new: before["ids"][old] for old, new in RENAMED.items()}
    assert after["old_xmlids"] == []


def test_transient_models_have_their_new_names(upgrade):
    _before, after = upgrade
    assert after["models"] == [
        "crm.lead.reassign",
        "crm.stage.map",
        "crm.stage.map.line",
    ]
    assert after["actions"] == ["crm.stage.map", "crm.lead.reassign"]
    # the old transient tables are gone, the new ones are there
    assert after["tables"] == [False, False, False, True, True, True]
    assert after["stage_map"] is True


def test_what_the_admin_built_on_them_stays(upgrade):
    before, after = upgrade
    assert after["custom_view"] == [
        "crm.stage.map",
        before["ids"]["crm_stage_map_wizard_view_form"],
        True,
    ]
    assert after["custom_note_shown"] is True
    assert after["filter_model"] == "crm.lead.reassign"


def test_forecast_rule_lets_salespeople_read_their_targets(upgrade):
    """The forecast's rule for salespeople is a noupdate record: the
    migration gives it the data file's name and domain (their own targets and
    their teams' own, beside their opportunities), as a new install has."""
    before, after = upgrade
    assert before["forecast_rule"] == [
        "Forecast: own and unassigned opportunities",
        "['|', ('lead_id.user_id', '=', user.id), ('lead_id.user_id', '=', False)]",
    ]
    assert after["forecast_rule"] == rule_in_data_file(
        "security/crm_lead_stage_history_security.xml", FORECAST_RULE
    )
