# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Stuck opportunities ("Utknęła w etapie"): an open opportunity is stuck
when its stage has a number of days (``crm.stage.funnel_stuck_days``) and at
least that many days have passed, in the user's days, since its stage date
("Data etapu", ``date_stage``): the business date of the stage, which an
edit of anything else (the description, the next action) does not move.

One rule, one place: :meth:`CrmLead._funnel_stuck_domain` is the domain of
the stuck opportunities; the search filter, the funnel board's figure, the
daily reminder and the computed fields (evaluated in memory with
``filtered_domain``) all read it. Odoo 19.0's own "rotting"
(``rotting_threshold_days``, counted from the last write of the stage) is
another rule and stays crm's."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import compat


class CrmLead(models.Model):
    _inherit = "crm.lead"

    funnel_is_stuck = fields.Boolean(
        string="Stuck in Stage",
        compute="_compute_funnel_stuck",
        search="_search_funnel_is_stuck",
        help="An open opportunity whose stage has a number of days after which it "
        "is stuck, and which has stood in it since its stage date for at least "
        "that many days.",
    )
    funnel_stuck_days_count = fields.Integer(
        string="Days Stuck in Stage",
        compute="_compute_funnel_stuck",
        help="Days since the stage date of a stuck opportunity (0 when it is not "
        "stuck).",
    )

    # ------------------------------------------------------------
    # THE RULE
    # ------------------------------------------------------------

    @api.model
    def _funnel_stuck_domain(self, today=None):
        """The domain of the opportunities stuck on ``today`` (the user's day
        unless given): open opportunities (``compat.open_lead_domain``, leads
        left out) whose stage has ``funnel_stuck_days`` and whose stage date
        is that many days or more before ``today``. The stages' numbers are
        read here (one query): the domain compares the stage date with one
        date per number, which PostgreSQL reads through the index of the
        open opportunities' stages, never opportunity by opportunity."""
        today = today or fields.Date.context_today(self)
        stages = self.env["crm.stage"].with_context(active_test=False)
        groups = stages._read_group(
            [("funnel_stuck_days", ">", 0)], ["funnel_stuck_days"], ["id:array_agg"]
        )
        if not groups:
            return [("id", "in", [])]
        by_days = compat.domain_or(
            [
                [
                    ("stage_id", "in", sorted(stage_ids)),
                    ("date_stage", "<=", today - timedelta(days=days)),
                ]
                for days, stage_ids in sorted(groups)
            ]
        )
        return compat.domain_and(
            [[("type", "=", "opportunity")], compat.open_lead_domain(), by_days]
        )

    # ------------------------------------------------------------
    # COMPUTES AND SEARCH
    # ------------------------------------------------------------

    @api.depends_context("tz", "uid")
    @api.depends(
        "type", "date_stage", "stage_id.funnel_stuck_days", *compat.LEAD_CLOSED_DEPENDS
    )
    def _compute_funnel_stuck(self):
        """The rule of the search, evaluated in memory on the whole batch:
        one query (the stages' numbers), whatever the number of records."""
        today = fields.Date.context_today(self)
        stuck = set(self.filtered_domain(self._funnel_stuck_domain(today))._ids)
        for lead in self:
            is_stuck = lead.id in stuck
            lead.funnel_is_stuck = is_stuck
            lead.funnel_stuck_days_count = (
                (today - lead.date_stage).days if is_stuck else 0
            )

    def _search_funnel_is_stuck(self, operator, value):
        if operator in ("=", "!="):
            values = {bool(value)}
        elif operator in ("in", "not in"):
            values = {bool(item) for item in value}
        else:
            raise UserError(
                self.env._(
                    "The filter on stuck opportunities accepts only =, !=, in "
                    "and not in, not %(operator)s.",
                    operator=operator,
                )
            )
        if operator in ("!=", "not in"):
            values = {True, False} - values
        if len(values) != 1:
            return [("id", "!=", False)] if values else [("id", "in", [])]
        stuck = self._funnel_stuck_domain()
        if True in values:
            return stuck
        # the others: a subquery, so that an opportunity without a stage
        # date (NULL) is among them
        return [("id", "not in", self.with_context(active_test=False)._search(stuck))]

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _funnel_days_text(self, days):
        """``days`` days, in words of the user's language ("1 dzień", "12
        dni")."""
        if days == 1:
            return self.env._("1 day")
        return self.env._("%(days)s days", days=days)
