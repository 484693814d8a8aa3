# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import Command
from odoo.tools import SQL

from .models.crm_lead_value_change import RECORDING_START_PARAM

_logger = logging.getLogger(__name__)


def _funnel_stage_ids(env):
    return env["crm.stage"]._get_funnel_stages().ids


def post_init_hook(env):
    _archive_unused_stages(env)
    _fill_process_dates(env)
    _backfill_stage_history(env)
    _fill_stage_reached(env)
    _rebuild_forecast_snapshots(env)


def _rebuild_forecast_snapshots(env):
    """The forecast of each past month's first day, rebuilt from the stage
    history (see ``sales.funnel.forecast.snapshot._rebuild_from_history``)."""
    companies = env["res.company"].search([])
    written = env["sales.funnel.forecast.snapshot"]._rebuild_from_history(companies)
    _logger.info(
        "sales_funnel_pl: %s forecast snapshot lines rebuilt from the history", written
    )


def _fill_stage_reached(env):
    """How far each opportunity got (``crm.lead.stage_reached_id``), from the
    stage history just filled."""
    count = env["crm.lead"]._stage_reached_refresh()
    _logger.info("sales_funnel_pl: furthest stage set on %s opportunities", count)


def _archive_unused_stages(env):
    """Archive the stages the company no longer needs.

    Stages that are not part of the funnel and hold no opportunity (active
    or lost) are archived; stages that hold opportunities stay active and no
    opportunity moves by itself: the stage mapping wizard does that on
    request.
    """
    Stage = env["crm.stage"].with_context(active_test=False)
    other_stages = Stage.search([("id", "not in", _funnel_stage_ids(env))])
    used_stage_ids = {
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", other_stages.ids)], ["stage_id"])
    }
    unused = other_stages.filtered(lambda stage: stage.id not in used_stage_ids)
    unused.write({"active": False})
    _logger.info(
        "sales_funnel_pl: archived %s unused stages, kept %s stages holding "
        "opportunities",
        len(unused),
        len(used_stage_ids),
    )


def uninstall_hook(env):
    # the stage analysis' sums go with their table: no sum to keep while the
    # history is emptied
    env["sales.funnel.stage.rollup"]._drop_triggers()
    # the history goes away with the module; its rows must not keep the
    # unused funnel stages from being deleted (stage_id is ondelete restrict)
    env.cr.execute("DELETE FROM crm_lead_stage_history")
    # the saved forecasts too (their stage_id is ondelete restrict as well)
    env.cr.execute("DELETE FROM sales_funnel_forecast_snapshot")
    # the start of the recording of value changes goes with their table
    env.cr.execute(
        "DELETE FROM ir_config_parameter WHERE key = %s",
        [RECORDING_START_PARAM],
    )
    # the trigger keeping the history's company would outlive its tables
    env.cr.execute(
        """DROP TRIGGER IF EXISTS sales_funnel_pl_history_company ON crm_lead;
           DROP FUNCTION IF EXISTS sales_funnel_pl_history_company()"""
    )
    _uninstall_keep_activities(env)
    _uninstall_keep_stages(env)
    _uninstall_restore_crm(env)


def _uninstall_restore_crm(env):
    """Give crm back what the module changed on it, which Odoo does not undo.

    crm's Stages menu: the module shows it to sales managers, crm in
    developer mode only (``views/crm_menu_views.xml``).

    crm's ``requirements``, a stage's description (the pipeline column's
    tooltip): the module makes it translatable (``models/crm_stage.py``);
    without it, it is plain text again, and Odoo keeps the English of a
    translated column it converts back. Each stage keeps its description in
    the language most active internal users work in (its English where it
    has none in that language).
    """
    menu = env.ref("crm.menu_crm_lead_stage_act", raise_if_not_found=False)
    if menu:
        env.ref("sales_team.group_sale_manager").menu_access = [Command.unlink(menu.id)]
        env.ref("base.group_no_one").menu_access = [Command.link(menu.id)]
    env.cr.execute(
        """SELECT p.lang FROM res_users u JOIN res_partner p ON p.id = u.partner_id
            WHERE u.active AND NOT u.share AND p.lang IS NOT NULL
            GROUP BY p.lang ORDER BY count(*) DESC, p.lang LIMIT 1"""
    )
    row = env.cr.fetchone()
    if row and row[0] != "en_US":
        env["crm.stage"].flush_model(["requirements"])
        env.cr.execute(
            SQL(
                """UPDATE crm_stage
                      SET requirements = jsonb_build_object('en_US', requirements->>%s)
                    WHERE requirements->>%s IS NOT NULL""",
                row[0],
                row[0],
            )
        )
        env["crm.stage"].invalidate_model(["requirements"])


def _uninstall_keep_activities(env):
    """Planned next actions stay planned: the module's activity types go
    away with it, so their open activities become plain To-Dos."""
    own_types = (
        env["ir.model.data"]
        .search(
            [("module", "=", "sales_funnel_pl"), ("model", "=", "mail.activity.type")]
        )
        .mapped("res_id")
    )
    todo = env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
    if own_types and todo:
        activities = (
            env["mail.activity"]
            .with_context(active_test=False)
            .search([("activity_type_id", "in", own_types)])
        )
        activities.write({"activity_type_id": todo.id})
        env["mail.activity"].search(
            [("previous_activity_type_id", "in", own_types)]
        ).write({"previous_activity_type_id": False})


def _uninstall_keep_stages(env):
    """Keep the funnel stages that still hold opportunities.

    ``crm.lead.stage_id`` is ``ondelete='restrict'``: Odoo cannot delete a
    stage that an opportunity uses. Such stages are detached from the module
    (their external id removed) so that they stay as the company's own
    stages, with every opportunity in them; unused funnel stages are deleted
    with the module. Demo opportunities and their customers are kept the same
    way. Stages archived while the module was installed show again, as the
    ``active`` field goes away with it.
    """
    funnel_stage_ids = _funnel_stage_ids(env)
    used_stage_ids = [
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", funnel_stage_ids)], ["stage_id"])
    ]
    IrModelData = env["ir.model.data"]
    kept = IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "crm.stage"),
            ("res_id", "in", used_stage_ids),
        ]
    )
    # demo opportunities are opportunities too: keep them with their customers
    lead_data = IrModelData.search(
        [("module", "=", "sales_funnel_pl"), ("model", "=", "crm.lead")]
    )
    partner_ids = (
        env["crm.lead"]
        .with_context(active_test=False)
        .browse(lead_data.mapped("res_id"))
        .exists()
        .partner_id.ids
    )
    kept |= lead_data
    kept |= IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "res.partner"),
            ("res_id", "in", partner_ids),
        ]
    )
    kept.unlink()
    _logger.info(
        "sales_funnel_pl: %s funnel stages holding opportunities kept on uninstall",
        len(used_stage_ids),
    )


def _fill_process_dates(env):
    """The process dates of the opportunities created during the install
    (demo data): those that existed before were filled with the columns
    (``crm.lead._auto_init``), without rewriting every opportunity again."""
    after_id = getattr(env.registry, "sales_funnel_pl_process_filled", 0)
    env["crm.lead"].flush_model()
    env["crm.lead"]._fill_process_dates(after_id)


def _backfill_stage_history(env):
    """The stage history of existing opportunities, from the chatter's
    tracking (``crm.lead.stage.history._backfill``)."""
    count = env["crm.lead.stage.history"]._backfill()
    _logger.info("sales_funnel_pl: stage history filled for %s opportunities", count)
