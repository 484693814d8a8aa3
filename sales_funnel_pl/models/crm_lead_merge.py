# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import models
from odoo.tools import SQL


class CrmLead(models.Model):
    """Merging opportunities (crm's merge: the wizard, the conversion of a
    lead into an existing opportunity, the duplicates merged by the lead
    assignment) merges their sales processes too."""

    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # MERGE
    # ------------------------------------------------------------

    def _merge_dependences(self, opportunities):
        result = super()._merge_dependences(opportunities)
        self._merge_dependences_process(opportunities)
        return result

    def _merge_dependences_process(self, opportunities):
        """The sales process of ``self``, the opportunity a merge keeps, is
        that of the merged ones together (``opportunities``, in crm's order
        of confidence, go away after the merge, as their messages come to
        ``self``):

        - it started when the first of them started, by whom started that one;
        - everyone who worked on any of them worked on it;
        - it got as far as the furthest of them got (``_stage_furthest``);
        - its stage history holds all their rows, as they were written; the
          row each merged-away opportunity still had open is closed at the
          merge, left for no stage: not a sales move (no next stage, not
          moved on, no days in the stage counted), so that the kept
          opportunity's own open row is its only one;
        - what grew out of a merged-away opportunity grows out of it, and it
          grows out of what the first of them grew from.

        Its stage, stage date, probability and closing stay its own, as crm
        keeps its stage. A constant number of queries, whatever the number
        of opportunities merged."""
        self.ensure_one()
        opportunities -= self
        if not opportunities:
            return
        merged = self + opportunities
        values = {}
        starter = min(merged, key=lambda lead: lead.date_process_start or date.max)
        if starter != self:
            values["date_process_start"] = starter.date_process_start
            values["process_start_user_id"] = starter.process_start_user_id.id
        # (the stages read at once)
        reached = self._stage_furthest(merged.stage_reached_id)
        if reached != self.stage_reached_id:
            values["stage_reached_id"] = reached.id
        origin = next(
            (lead for lead in merged.origin_lead_id if lead not in merged),
            self.env["crm.lead"],
        )
        if origin != self.origin_lead_id:
            values["origin_lead_id"] = origin.id
        if values:
            self.write(values)
        # whoever may merge them may move what grew out of them, as crm
        # moves their messages and meetings
        self.sudo().with_context(active_test=False).search(
            [("origin_lead_id", "in", opportunities.ids), ("id", "not in", merged.ids)]
        ).write({"origin_lead_id": self.id})
        self._merge_dependences_stage_history(opportunities)

    def _merge_dependences_stage_history(self, opportunities):
        """Move the stage history rows (and skipped stages) of
        ``opportunities`` to ``self``, closing their open rows at the merge,
        and add whoever worked on them to those who worked on ``self``, in
        SQL as a stage change adds them (see ``_merge_dependences_process``):
        one query."""
        History = self.env["crm.lead.stage.history"]
        Skip = self.env["crm.lead.stage.history.skip"]
        History.flush_model()
        Skip.flush_model()
        self.flush_recordset(["company_id"])
        (self + opportunities).flush_recordset(["process_user_ids"])
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
            WITH workers AS (
                INSERT INTO crm_lead_process_user_rel (lead_id, user_id)
                SELECT %(lead_id)s, user_id FROM crm_lead_process_user_rel
                 WHERE lead_id = ANY(%(away_ids)s)
                ON CONFLICT DO NOTHING
            ), skips AS (
                UPDATE crm_lead_stage_history_skip
                   SET lead_id = %(lead_id)s, report_company_id = %(company_id)s
                 WHERE lead_id = ANY(%(away_ids)s)
            )
            UPDATE crm_lead_stage_history
               SET lead_id = %(lead_id)s,
                   -- the opportunity's company, as the rows' trigger keeps it
                   report_company_id = %(company_id)s,
                   -- the opportunity each row was written for: its own
                   -- succession of stages, kept apart from the kept one's
                   merged_lead_id = COALESCE(merged_lead_id, lead_id),
                   -- the open row: left at the merge, for no stage (its
                   -- next stage and days stay empty)
                   left_change = CASE WHEN date_leave IS NULL THEN 'merge'
                                      ELSE left_change END,
                   date_leave = COALESCE(date_leave, GREATEST(%(now)s, date_enter)),
                   write_uid = %(uid)s, write_date = %(now)s
             WHERE lead_id = ANY(%(away_ids)s)
            """,
                lead_id=self.id,
                company_id=self.company_id.id or None,
                away_ids=opportunities.ids,
                now=now,
                uid=self.env.uid,
            )
        )
        History.invalidate_model()
        Skip.invalidate_model()
        (self + opportunities).invalidate_recordset(
            ["stage_history_ids", "stage_history_count", "process_user_ids"]
        )
