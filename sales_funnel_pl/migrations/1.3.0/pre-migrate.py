# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.3.0 (each series prefixes it: 18.0.1.3.0, 19.0.1.3.0): the transient
models are named as Odoo's guidelines say (``<model>.<action>``, no
"wizard"), their files, views, actions, menus and access rules too, and each
inherited view keeps the id of the view it inherits.

Before the new code loads, the records keep their ids under their new names
(models, fields, views, actions, menus, access rules): what refers to them
(a bookmarked action, an admin's view inheriting one, a menu an admin
edited) still does, instead of Odoo deleting them and creating new ones.
The old transient tables hold nothing worth keeping: they are dropped, and
Odoo creates the new ones."""

from odoo.tools import SQL

MODULE = "sales_funnel_pl"

MODELS = {
    "crm.stage.map.wizard": "crm.stage.map",
    "crm.stage.map.wizard.line": "crm.stage.map.line",
    "crm.lead.reassign.wizard": "crm.lead.reassign",
}

XMLIDS = {
    "crm_stage_map_wizard_view_form": "crm_stage_map_view_form",
    "crm_stage_map_wizard_action": "crm_stage_map_action",
    "crm_stage_map_wizard_menu": "crm_stage_map_menu",
    "crm_lead_reassign_wizard_view_form": "crm_lead_reassign_view_form",
    "crm_lead_reassign_wizard_action": "crm_lead_reassign_action",
    "crm_lead_reassign_wizard_menu": "crm_lead_reassign_menu",
    "access_crm_stage_map_wizard_manager": "access_crm_stage_map_manager",
    "access_crm_stage_map_wizard_line_manager": "access_crm_stage_map_line_manager",
    "access_crm_lead_reassign_wizard_manager": "access_crm_lead_reassign_manager",
    # inherited views: the id of the view they inherit
    "crm_lead_view_kanban": "crm_case_kanban_view_leads",
    "crm_lead_view_list": "crm_case_tree_view_oppor",
    "crm_lead_view_search": "view_crm_case_opportunities_filter",
    "crm_stage_view_search": "crm_lead_stage_search",
    "crm_stage_view_list": "crm_stage_tree",
    "crm_stage_view_form": "crm_stage_form",
}


def _rename_xmlid(cr, old, new):
    cr.execute(
        "UPDATE ir_model_data SET name = %s WHERE module = %s AND name = %s",
        [new, MODULE, old],
    )


def _rename_model(cr, old, new):
    old_table, new_table = old.replace(".", "_"), new.replace(".", "_")
    cr.execute("UPDATE ir_model SET model = %s WHERE model = %s", [new, old])
    cr.execute("UPDATE ir_model_fields SET model = %s WHERE model = %s", [new, old])
    cr.execute(
        "UPDATE ir_model_fields SET relation = %s WHERE relation = %s", [new, old]
    )
    cr.execute(
        "UPDATE ir_act_window SET res_model = %s WHERE res_model = %s", [new, old]
    )
    cr.execute("UPDATE ir_ui_view SET model = %s WHERE model = %s", [new, old])
    cr.execute("UPDATE ir_filters SET model_id = %s WHERE model_id = %s", [new, old])
    # the xml ids Odoo gives the model and its fields
    _rename_xmlid(cr, f"model_{old_table}", f"model_{new_table}")
    old_prefix, new_prefix = f"field_{old_table}__", f"field_{new_table}__"
    cr.execute(
        """UPDATE ir_model_data SET name = %s || substr(name, %s)
            WHERE module = %s AND left(name, %s) = %s""",
        [new_prefix, len(old_prefix) + 1, MODULE, len(old_prefix), old_prefix],
    )
    # the transient tables, their many2many tables and constraints: Odoo
    # creates the new ones
    cr.execute(
        """SELECT name FROM ir_model_relation
            WHERE position(%s in name) > 0 AND module IN (
                  SELECT id FROM ir_module_module WHERE name = %s)""",
        [old_table, MODULE],
    )
    tables = [name for (name,) in cr.fetchall()] + [old_table]
    for table in tables:
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(table)))
    cr.execute("DELETE FROM ir_model_relation WHERE name = ANY(%s)", [tables[:-1]])
    cr.execute(
        "DELETE FROM ir_model_constraint WHERE left(name, %s) = %s",
        [len(old_table), old_table],
    )


def migrate(cr, version):
    for old, new in MODELS.items():
        _rename_model(cr, old, new)
    for old, new in XMLIDS.items():
        _rename_xmlid(cr, old, new)
