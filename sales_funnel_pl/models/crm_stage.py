# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import compat
from ..utils import success_notification


@compat.sql_constraints(
    probability_range=(
        "CHECK(probability >= 0 AND probability <= 100)",
        "The probability of a stage must be between 0% and 100%.",
    ),
)
class CrmStage(models.Model):
    _inherit = "crm.stage"

    active = fields.Boolean(default=True)
    probability = fields.Float(
        string="Probability (%)",
        default=0.0,
        digits=(16, 2),
        help="Suggested probability of winning, in percent, set on an opportunity "
        "when it enters this stage. Users may change it on the opportunity "
        "afterwards.",
    )
    # Odoo shows the requirements as the tooltip of the kanban column: the
    # method's stage description lives there, so it must be translatable.
    requirements = fields.Text(translate=True)

    @api.constrains("probability")
    def _check_probability(self):
        for stage in self:
            if not 0 <= stage.probability <= 100:
                probability = f"{stage.probability:g}"
                raise ValidationError(
                    self.env._(
                        "The probability of stage %(stage)s must be between 0%% "
                        "and 100%%, not %(probability)s%%.",
                        stage=stage.name,
                        probability=probability,
                    )
                )

    def write(self, vals):
        # how far each opportunity got depends on the stages' order and on
        # which are active: recomputed once for the transaction, for the
        # opportunities that entered the stages that change
        changed = self.filtered(
            lambda stage: any(
                fname in vals and stage[fname] != vals[fname]
                for fname in ("sequence", "active")
            )
        )
        result = super().write(vals)
        if changed:
            self.env["crm.lead"]._stage_reached_refresh_later(changed)
        return result

    @api.model
    def _get_funnel_stages(self):
        """The stages this module created (whatever the company renamed them to)."""
        stage_ids = (
            self.env["ir.model.data"]
            .sudo()
            .search([("module", "=", "sales_funnel_pl"), ("model", "=", "crm.stage")])
            .mapped("res_id")
        )
        return self.with_context(active_test=False).browse(stage_ids).exists()

    def action_apply_probability(self):
        """Set the stage's probability on the open opportunities in this stage."""
        self.ensure_one()
        leads = self.env["crm.lead"].search(
            [
                ("stage_id", "=", self.id),
                ("type", "=", "opportunity"),
                ("probability", "!=", self.probability),
            ]
        )
        leads.write({"probability": self.probability})
        probability = f"{self.probability:g}"
        return success_notification(
            self.env._(
                "Probability %(probability)s%% applied to %(count)s open "
                "opportunities.",
                probability=probability,
                count=len(leads),
            )
        )
