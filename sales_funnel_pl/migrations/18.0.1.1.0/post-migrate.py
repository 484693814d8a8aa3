"""18.0.1.1.0: history rows record the stages they skipped. Fill them for
the rows written before, as the funnel stands at the upgrade."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(
        env["crm.lead.stage.history"]._insert_skipped_stages_sql(
            SQL("crm_lead_stage_history")
        )
    )
