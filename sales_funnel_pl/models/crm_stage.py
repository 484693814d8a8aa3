# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import compat
from ..utils import success_notification


def stage_order_sql(alias):
    """crm's stage order (``crm.stage._order``: sequence, name, id) as an SQL
    row value of the ``crm_stage`` row aliased ``alias``, compared with ``<``
    and ``>`` or sorted on. Names are compared in their source language
    (English), as the ORM sorts stages without a language, so that the order
    does not depend on who reads or writes. Every comparison of stages in the
    addon, in SQL or in Python (``crm.stage._sorted_in_order``), is this one."""
    stage = SQL.identifier(alias)
    return SQL(
        "(%(stage)s.sequence, %(stage)s.name->>'en_US', %(stage)s.id)", stage=stage
    )


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
    is_funnel_stage = fields.Boolean(
        string="In the Sales Funnel",
        default=False,
        help="The funnel's rules apply to the opportunities in this stage: it "
        "proposes its probability, opportunities in it get reminders of their "
        "next actions, winning closes their pre-sale activities. The 17 stages "
        "of the method are; a stage of a team that works its own way is not, "
        "and keeps crm's own behaviour.",
    )
    # how long an open opportunity may stand in the stage before it is
    # stuck ("Utknęła w etapie", models/crm_lead_stuck.py); not 19.0's
    # rotting_threshold_days, which crm counts from the stage's last write
    funnel_stuck_days = fields.Integer(
        string="Stuck After (days)",
        help="An open opportunity of this stage is stuck when this many days or "
        'more have passed since its stage date ("Stage Date", the business date '
        "of the stage, in the salesperson's days), whatever was edited on it "
        'meanwhile: it is flagged on the pipeline card, in the "Stuck in '
        'stage" filter, on the funnel board and in the daily reminder. Empty or '
        "0: never stuck.",
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

    @api.constrains("funnel_stuck_days")
    def _check_funnel_stuck_days(self):
        for stage in self:
            if stage.funnel_stuck_days < 0:
                raise ValidationError(
                    self.env._(
                        "The number of days after which an opportunity of stage "
                        "%(stage)s is stuck cannot be negative (%(days)s).",
                        stage=stage.name,
                        days=stage.funnel_stuck_days,
                    )
                )

    def write(self, vals):
        # how far each opportunity got depends on the stages' order and on
        # which are active: recomputed once for the transaction, for the
        # opportunities that entered the stages that change
        changed = self.filtered(
            lambda stage: any(
                fname in vals and stage[fname] != vals[fname]
                for fname in ("sequence", "name", "active")
            )
        )
        won_changed = self.filtered(
            lambda stage: "is_won" in vals and stage.is_won != bool(vals["is_won"])
        )
        result = super().write(vals)
        if changed:
            self.env["crm.lead"]._stage_reached_refresh_later(changed)
        if won_changed:
            # their opportunities are won, or no longer: the stage
            # analysis' marks of their rows follow
            self.env["sales.funnel.stage.rollup"]._refresh_stages(won_changed)
        return result

    def _sorted_in_order(self, reverse=False):
        """These stages in crm's stage order (see ``stage_order_sql``): one
        query, archived stages included."""
        if not self:
            return self
        self.flush_model(["sequence", "name"])
        self.env.cr.execute(
            SQL(
                "SELECT s.id FROM crm_stage s WHERE s.id = ANY(%s) ORDER BY %s %s",
                self.ids,
                stage_order_sql("s"),
                SQL("DESC" if reverse else "ASC"),
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

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
        """Set the stage's probability on the open opportunities in this stage
        (a stage in the funnel only: elsewhere crm's probability stays)."""
        self.ensure_one()
        count = self._apply_probability_to_open()
        probability = f"{self.probability:g}"
        return success_notification(
            self.env._(
                "Probability %(probability)s%% applied to %(count)s open "
                "opportunities.",
                probability=probability,
                count=count,
            )
        )

    def _apply_probability_to_open(self):
        """The re-apply of ``action_apply_probability`` (the funnel tuning
        calls it too): the stage's probability set on its open opportunities
        of the funnel whose probability differs. Returns how many."""
        self.ensure_one()
        leads = self.env["crm.lead"].search(
            [
                ("stage_id", "=", self.id),
                *self.env["crm.lead"]._sales_funnel_domain(),
                ("probability", "!=", self.probability),
            ]
        )
        leads.write({"probability": self.probability})
        return len(leads)
