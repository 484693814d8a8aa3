# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..utils import success_notification


class CrmStageMap(models.TransientModel):
    _name = "crm.stage.map"
    _description = "Map old stages to funnel stages"

    line_ids = fields.One2many(
        "crm.stage.map.line", "wizard_id", string="Stages to map"
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if "line_ids" not in fields_list:
            return res
        funnel_stage_ids = self.env["crm.stage"]._get_funnel_stages().ids
        counts = dict(
            self._get_lead_model()._read_group(
                [("stage_id", "not in", funnel_stage_ids), ("stage_id", "!=", False)],
                ["stage_id"],
                ["__count"],
            )
        )
        res["line_ids"] = [
            fields.Command.create({"source_stage_id": stage.id})
            for stage in self.env["crm.stage"]
            .browse(stage.id for stage in counts)
            .sorted()
        ]
        return res

    def action_apply(self):
        self.ensure_one()
        lines = self.line_ids.filtered("target_stage_id")
        if not lines:
            raise UserError(
                self.env._("Choose a funnel stage for at least one old stage.")
            )
        if any(line.source_stage_id == line.target_stage_id for line in lines):
            raise UserError(self.env._("An old stage cannot be mapped to itself."))
        # a migration, not a sale: the history records it as a stage mapping
        Lead = self._get_lead_model().with_context(sales_funnel_stage_mapping=True)
        moved = 0
        for target, target_lines in lines.grouped("target_stage_id").items():
            leads = Lead.search([("stage_id", "in", target_lines.source_stage_id.ids)])
            leads.write({"stage_id": target.id})
            moved += len(leads)
        lines.source_stage_id.write({"active": False})
        return success_notification(
            self.env._(
                "%(count)s opportunities moved, %(stages)s old stages archived.",
                count=moved,
                stages=len(lines),
            )
        )

    @api.model
    def _get_lead_model(self):
        """``crm.lead`` over every opportunity standing in a stage, to count and
        move them: the stages are shared by every company, and an old stage is
        archived for all of them, so its opportunities move in every company
        (whatever the company switcher shows, even a company the sales manager
        cannot open), lost ones too (archived: they stay lost, in the funnel
        stage). Superuser rights for that, and only that: the user stays the
        writer of the moves (chatter, history, "Worked on by")."""
        return self.env["crm.lead"].sudo().with_context(active_test=False)


class CrmStageMapLine(models.TransientModel):
    _name = "crm.stage.map.line"
    _description = "Map one old stage to a funnel stage"

    wizard_id = fields.Many2one("crm.stage.map", required=True, ondelete="cascade")
    source_stage_id = fields.Many2one(
        "crm.stage",
        string="Old stage",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    lead_count = fields.Integer(
        string="Opportunities",
        compute="_compute_lead_count",
        help="The opportunities in the old stage, in every company, lost ones too.",
    )
    target_stage_id = fields.Many2one(
        "crm.stage",
        string="Funnel stage",
        domain="[('id', '!=', source_stage_id)]",
        ondelete="cascade",
    )

    @api.depends("source_stage_id")
    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.stage.map"]
            ._get_lead_model()
            ._read_group(
                [("stage_id", "in", self.source_stage_id.ids)],
                ["stage_id"],
                ["__count"],
            )
        )
        for line in self:
            line.lead_count = counts.get(line.source_stage_id._origin, 0)
