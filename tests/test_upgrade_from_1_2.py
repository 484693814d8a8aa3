# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from the previous release, 1.2.0, to this one, for real:
the addon as the repository held it before the version went to 1.3.0
(``git archive``) is installed on a throw-away database, an administrator
customises it, then Odoo upgrades it with this tree's code.

1.3.0 renames the transient models (``crm.stage.map``, ``crm.lead.reassign``)
with their views, actions, menus and access rules, and gives inherited views
the ids of the views they inherit: every record keeps its id, and what an
administrator built on them stays. The renames checked are the migration's
own lists, read from it; and every record of the addon's that 1.2.0 had
must keep its id, so that an entry those lists miss shows. 1.4.0 fills in
how far each opportunity got (``stage_reached_id``) from the stage history
the earlier release wrote."""

import ast
import importlib.util
import os

import pytest
from odoo_cli import (
    MANIFEST,
    REPO,
    rule_in_data_file,
    upgraded,
)

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_DB", "sales_funnel_pl_upgrade")

# the migration that renames them: its lists of models and xml ids are the
# renames this test checks (read from it, not written again here)
MIGRATION = REPO / "sales_funnel_pl" / "migrations" / "1.3.0" / "pre-migrate.py"


def _migration():
    spec = importlib.util.spec_from_file_location("sales_funnel_pl_1_3_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(model):
    return model.replace(".", "_")


def renamed(field_xmlids=()):
    """xml ids in 1.2.0 -> in 1.3.0, as the migration renames them: its
    models (their own xml ids, and those of their fields among
    ``field_xmlids``, the 1.2.0 database's) and its list of xml ids."""
    migration = _migration()
    names = {
        f"model_{_table(old)}": f"model_{_table(new)}"
        for old, new in migration.MODELS.items()
    }
    for old, new in migration.MODELS.items():
        prefix = f"field_{_table(old)}__"
        names |= {
            xmlid: f"field_{_table(new)}__{xmlid[len(prefix) :]}"
            for xmlid in sorted(field_xmlids)
            if xmlid.startswith(prefix)
        }
    return names | migration.XMLIDS


# 1.2.0: the ids of the records, and an administrator's own view inheriting
# the stage mapping form, and a favourite filter on the reassignment
BEFORE = """
ids = {{xmlid: env.ref("sales_funnel_pl." + xmlid).id for xmlid in {old!r}}}
# the fields of the models 1.3.0 renames, as 1.2.0 has them
ids |= {{data.name: data.res_id for data in env["ir.model.data"].search([
    ("module", "=", "sales_funnel_pl"), ("model", "=", "ir.model.fields"),
    ("name", "=like", "field_%"), ("res_id", "in", env["ir.model.fields"].search(
        [("model", "in", {models!r})]).ids)])}}
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
# every record of the addon's own, to find those the upgrade did not keep
records = [[data.model, data.res_id, data.name] for data in env["ir.model.data"].search(
    [("module", "=", "sales_funnel_pl"), ("model", "in", {kept_models!r})])]
emit({{"ids": ids, "custom_view": view.id, "lead": lead.id, "records": records,
      "forecast_rule": [rule.name, rule.domain_force],
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version}})
"""

FORECAST_RULE = "sales_funnel_forecast_report_rule_salesman"
# the records an administrator builds on or refers to: an entry missing from
# the migration's lists would have the upgrade delete the record and create
# another one under the new name
KEPT_MODELS = [
    "ir.model",
    "ir.model.fields",
    "ir.ui.view",
    "ir.actions.act_window",
    "ir.ui.menu",
    "ir.model.access",
]

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
kept = env["ir.model.data"].search_read(
    [("module", "=", "sales_funnel_pl"), ("model", "in", {kept_models!r})],
    ["model", "res_id"])
emit({{
    "kept": sorted({{(data["model"], data["res_id"]) for data in kept}}),
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
    yield from upgraded(
        tmp_path_factory,
        DB,
        "1.3.0",
        "1.2.0",
        BEFORE.format(
            old=list(renamed()),
            models=list(_migration().MODELS),
            kept_models=KEPT_MODELS,
        ),
        lambda before: AFTER.format(
            old=list(renamed(before["ids"])),
            new=list(renamed(before["ids"]).values()),
            custom_view=before["custom_view"],
            lead=before["lead"],
            forecast_rule=FORECAST_RULE,
            kept_models=KEPT_MODELS,
        ),
    )


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
    names = renamed(before["ids"])
    # every xml id the migration renames, and the fields of each renamed model
    assert set(names) == set(before["ids"])
    assert {old.split("__")[0] for old in names if old.startswith("field_")} == {
        f"field_{_table(model)}" for model in _migration().MODELS
    }
    assert after["ids"] == {new: before["ids"][old] for old, new in names.items()}
    assert after["old_xmlids"] == []


def test_every_record_keeps_its_id(upgrade):
    """Whatever the migration's lists leave out is deleted by the upgrade
    (and created again under its new name): every record 1.2.0 had is
    still the addon's, under the same id."""
    before, after = upgrade
    kept = {tuple(record) for record in after["kept"]}
    assert [
        name for model, res_id, name in before["records"] if (model, res_id) not in kept
    ] == []


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
