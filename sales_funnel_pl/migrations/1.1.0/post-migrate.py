# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.1.0 (each series prefixes it: 18.0.1.1.0, 19.0.1.1.0): history rows
record the stages they skipped and whether they were left for a later
stage, and follow their opportunity's company. Fill both for the rows
written before, as the funnel stands at the upgrade, and align the rows'
companies."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL, sql


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # since 1.2.0 a row's company is its opportunity's (a related field): the
    # column exists only on databases that ran 1.1.0
    if sql.column_exists(cr, "crm_lead_stage_history", "company_id"):
        cr.execute(
            """UPDATE crm_lead_stage_history h SET company_id = l.company_id
                 FROM crm_lead l
                WHERE h.lead_id = l.id AND h.company_id IS DISTINCT FROM l.company_id"""
        )
    cr.execute(
        env["crm.lead.stage.history"]._insert_skipped_stages_sql(
            SQL("crm_lead_stage_history"), past=True
        )
    )
    cr.execute(
        """UPDATE crm_lead_stage_history h SET moved_on = true
             FROM crm_stage s, crm_stage ns
            WHERE s.id = h.stage_id AND ns.id = h.next_stage_id
              AND h.left_change IN ('stage', 'won') AND ns.sequence > s.sequence"""
    )
