# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.2.0: days in a stage follow the business stage dates, and the next
action of an opportunity is its earliest planned activity of any type.
Recompute both for the data written by 1.1.0."""


def migrate(cr, version):
    # the stage analysis' company of the rows written before
    cr.execute(
        """UPDATE crm_lead_stage_history h SET report_company_id = l.company_id
             FROM crm_lead l WHERE l.id = h.lead_id"""
    )
    cr.execute(
        """UPDATE crm_lead_stage_history_skip k SET report_company_id = l.company_id
             FROM crm_lead l WHERE l.id = k.lead_id"""
    )
    cr.execute(
        """UPDATE crm_lead_stage_history h
              SET duration_days = GREATEST(n.next_day - h.date_stage, 0)
             FROM (SELECT id, lead(date_stage) OVER (
                              PARTITION BY lead_id ORDER BY date_enter, id) AS next_day
                     FROM crm_lead_stage_history) n
            WHERE n.id = h.id AND h.date_leave IS NOT NULL"""
    )
    cr.execute(
        """WITH next AS (
               SELECT DISTINCT ON (res_id) res_id, id, date_deadline
                 FROM mail_activity
                WHERE res_model = 'crm.lead' AND active
                ORDER BY res_id, date_deadline, id
           )
           UPDATE crm_lead l
              SET next_activity_id = next.id, next_action_date = next.date_deadline
             FROM crm_lead l2
             LEFT JOIN next ON next.res_id = l2.id
            WHERE l2.id = l.id
              AND (l.next_activity_id IS DISTINCT FROM next.id
                   OR l.next_action_date IS DISTINCT FROM next.date_deadline)"""
    )
