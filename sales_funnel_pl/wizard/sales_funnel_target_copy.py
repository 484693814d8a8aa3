from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..utils import success_notification


class SalesFunnelTargetCopy(models.TransientModel):
    """Copy the selected sales targets forward, to the months after their own."""

    _name = "sales.funnel.target.copy"
    _description = "Copy Sales Targets to the Next Months"

    target_ids = fields.Many2many(
        "sales.funnel.target",
        string="Targets",
        required=True,
        default=lambda self: self._default_target_ids(),
    )
    months = fields.Integer(
        required=True,
        default=1,
        help="How many months after its own each target is copied to.",
    )

    @api.model
    def _default_target_ids(self):
        if self.env.context.get("active_model") == "sales.funnel.target":
            return [fields.Command.set(self.env.context.get("active_ids", []))]
        return []

    @api.constrains("months")
    def _check_months(self):
        for wizard in self:
            if not 1 <= wizard.months <= 24:
                raise ValidationError(self.env._("Copy the targets to 1 to 24 months."))

    def action_copy(self):
        self.ensure_one()
        created = self.target_ids._copy_to_next_months(self.months)
        return success_notification(
            self.env._("%(count)s targets copied.", count=len(created))
        )
