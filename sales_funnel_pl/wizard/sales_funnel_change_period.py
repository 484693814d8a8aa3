# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from ..report.sales_funnel_change_report import (
    CONTEXT_FROM,
    CONTEXT_MONTH,
    CONTEXT_TO,
    default_period,
)


class SalesFunnelChangePeriod(models.TransientModel):
    """The period (and closing month) of "Pipeline Changes", chosen before
    the waterfall opens: from the 1st of last month to today by default,
    in the user's days."""

    _name = "sales.funnel.change.period"
    _description = "Pipeline Changes: Period"

    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: default_period(fields.Date.context_today(self))[0],
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=fields.Date.context_today,
    )
    date_month = fields.Date(
        string="Closing Month",
        help="Read one expected closing month only (any day of it): its forecast "
        "at the start, what was pulled in from later months and pushed out to "
        "them, and its forecast at the end. Empty: the whole open pipeline.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team")
    user_id = fields.Many2one("res.users", string="Salesperson")

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._("The period cannot end before it starts.")
                )
            if wizard.date_from > today:
                raise ValidationError(
                    self.env._("The period cannot start in the future.")
                )

    def action_open(self):
        """The waterfall of the chosen period, as a graph of its bars."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pl.sales_funnel_change_report_action"
        )
        period = "%s – %s" % (
            format_date(self.env, self.date_from),
            format_date(self.env, self.date_to),
        )
        if self.date_month:
            action["name"] = self.env._(
                "Pipeline Changes %(period)s, closing in %(month)s",
                period=period,
                month=format_date(self.env, self.date_month, date_format="LLLL y"),
            )
        else:
            action["name"] = self.env._("Pipeline Changes %(period)s", period=period)
        context = {
            CONTEXT_FROM: fields.Date.to_string(self.date_from),
            CONTEXT_TO: fields.Date.to_string(self.date_to),
            CONTEXT_MONTH: fields.Date.to_string(self.date_month) or False,
        }
        if self.team_id:
            context["search_default_team_id"] = self.team_id.id
        if self.user_id:
            context["search_default_user_id"] = self.user_id.id
        action["context"] = context
        return action
