# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""How far each opportunity got (``stage_reached_id``): the furthest
active stage it entered, in crm's stage order (``crm_stage.stage_order_sql``),
kept by each move (the stage history's statement) and recomputed once per
transaction when stages are reordered or archived."""

from odoo import api, fields, models
from odoo.tools import SQL

from .crm_stage import stage_order_sql

# precommit flag: the furthest stages wait for a recompute (stage order changed)
REACHED_PENDING = "sales_funnel_pl.stage_reached_pending"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    stage_reached_id = fields.Many2one(
        "crm.stage",
        string="Furthest Stage",
        copy=False,
        readonly=True,
        ondelete="set null",
        help="The furthest active stage, in stage order, that this opportunity "
        "ever entered (from its stage history): how far it got. The funnel board "
        "reads it instead of going through the history.",
    )

    @api.model
    def _stage_furthest(self, stages):
        """The furthest of ``stages`` in crm's stage order, archived stages
        not counting (none when all are archived): how far an opportunity
        that entered all of them got."""
        return stages.filtered("active")._sorted_in_order(reverse=True)[:1]

    @api.model
    def _stage_reached_sql(self, lead_sql):
        """SQL updating ``stage_reached_id`` of the opportunities of
        ``lead_sql`` (a table or CTE with columns lead_id, stage_id: the
        stage each has just entered) where that stage is further than how
        far they got, in crm's stage order: run by the stage history's
        statement with each move."""
        return SQL(
            """UPDATE crm_lead l SET stage_reached_id = e.stage_id
                 FROM %(events)s e
                 JOIN crm_stage ns ON ns.id = e.stage_id AND ns.active
                WHERE l.id = e.lead_id
                  AND (l.stage_reached_id IS NULL
                       OR EXISTS (SELECT 1 FROM crm_stage rs
                                   WHERE rs.id = l.stage_reached_id
                                     AND %(new)s > %(reached)s))""",
            events=lead_sql,
            new=stage_order_sql("ns"),
            reached=stage_order_sql("rs"),
        )

    @api.model
    def _stage_reached_refresh(self, stage_ids=None):
        """Recompute ``stage_reached_id`` from the stage history, in one
        statement, writing only the opportunities whose value changes: after
        history rows were written in bulk (install, upgrade: every
        opportunity) or the order or activity of the stages ``stage_ids``
        changed (``_stage_reached_refresh_later``: only the opportunities
        that entered one of them can have got further or less far). Returns
        how many changed."""
        if stage_ids is None:
            # a recompute that was waiting for the commit is this one
            self.env.cr.precommit.data.pop(REACHED_PENDING, None)
        self.flush_model(["stage_reached_id"])
        self.env["crm.stage"].flush_model(["sequence", "name", "active"])
        concerned = (
            SQL(
                """SELECT DISTINCT lead_id AS id FROM crm_lead_stage_history
                    WHERE stage_id = ANY(%s)""",
                list(stage_ids),
            )
            if stage_ids is not None
            else SQL("SELECT id FROM crm_lead")
        )
        self.env.cr.execute(
            SQL(
                """
            WITH concerned AS (%s),
            -- the active stages in their order, numbered once: the rows
            -- are then compared by an integer (at the install, ten million
            -- rows sorted on the stages' names took minutes)
            ranked AS (
                SELECT s.id, row_number() OVER (ORDER BY %s) AS rank
                  FROM crm_stage s
                 WHERE s.active
            ),
            reached AS (
                SELECT h.lead_id, max(r.rank) AS rank
                  FROM crm_lead_stage_history h
                  JOIN ranked r ON r.id = h.stage_id
                 WHERE h.lead_id IN (SELECT id FROM concerned)
                 GROUP BY h.lead_id
            )
            UPDATE crm_lead l SET stage_reached_id = s.id
              FROM concerned c
              LEFT JOIN reached r ON r.lead_id = c.id
              LEFT JOIN ranked s ON s.rank = r.rank
             WHERE c.id = l.id AND l.stage_reached_id IS DISTINCT FROM s.id
            """,
                concerned,
                stage_order_sql("s"),
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["stage_reached_id"])
        return count

    @api.model
    def _stage_reached_refresh_later(self, stages):
        """The order or activity of ``stages`` changed: the furthest stage of
        the opportunities that entered them is recomputed once, before the
        transaction commits (a column drag writes each stage's sequence in
        turn), or before the funnel board reads it in this transaction
        (``_stage_reached_refresh_pending``)."""
        data = self.env.cr.precommit.data
        if REACHED_PENDING not in data:
            data[REACHED_PENDING] = set()
            self.env.cr.precommit.add(self._stage_reached_refresh_pending)
        data[REACHED_PENDING].update(stages.ids)

    @api.model
    def _stage_reached_refresh_pending(self):
        stage_ids = self.env.cr.precommit.data.pop(REACHED_PENDING, None)
        if stage_ids:
            self.sudo()._stage_reached_refresh(stage_ids)
