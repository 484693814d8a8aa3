# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.5.0: the funnel's rules apply where the funnel is used.

- The 17 stages the addon created are marked as the funnel's
  (``crm.stage.is_funnel_stage``); other stages keep crm's behaviour.
- An open opportunity that was typed at 100% when the addon was installed
  was taken for closed: its process end is cleared, so that its real win
  ends it.
- How far each opportunity got follows crm's stage order (sequence, name,
  id): recomputed where two active stages share a sequence (elsewhere the
  order did not change).

The SQL is frozen here as it was written for 1.5.0; it imports nothing of
the addon's code."""

from odoo import release


def migrate(cr, version):
    cr.execute(
        """UPDATE crm_stage s SET is_funnel_stage = true
             FROM ir_model_data d
            WHERE d.module = 'sales_funnel_pl' AND d.model = 'crm.stage'
              AND d.res_id = s.id AND NOT COALESCE(s.is_funnel_stage, false)"""
    )
    if release.version_info[0] >= 19:
        cr.execute(
            """UPDATE crm_lead l
                  SET date_process_end = NULL, process_end_user_id = NULL
                WHERE l.date_process_end IS NOT NULL AND l.won_status = 'pending'"""
        )
    else:
        cr.execute(
            """UPDATE crm_lead l
                  SET date_process_end = NULL, process_end_user_id = NULL
                WHERE l.date_process_end IS NOT NULL AND l.active
                  AND NOT COALESCE((SELECT s.is_won FROM crm_stage s
                                     WHERE s.id = l.stage_id), false)"""
        )
    cr.execute(
        """SELECT 1 FROM crm_stage WHERE active
            GROUP BY sequence HAVING count(*) > 1 LIMIT 1"""
    )
    if cr.fetchone():
        cr.execute(
            """
            WITH reached AS (
                SELECT DISTINCT ON (h.lead_id) h.lead_id, h.stage_id
                  FROM crm_lead_stage_history h
                  JOIN crm_stage s ON s.id = h.stage_id AND s.active
                 ORDER BY h.lead_id, (s.sequence, s.name->>'en_US', s.id) DESC
            )
            UPDATE crm_lead l SET stage_reached_id = r.stage_id
              FROM reached r
             WHERE r.lead_id = l.id
               AND l.stage_reached_id IS DISTINCT FROM r.stage_id
            """
        )
