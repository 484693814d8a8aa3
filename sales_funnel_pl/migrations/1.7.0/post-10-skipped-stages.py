# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.7.0: the install's history backfill recorded as skipped, for the moves
of the chatter's past, the stages the install itself created (the funnel's
17, between the company's old stages), as if they had been there: about 13
rows per past sale, which "Analiza etapów" and "Dopasowanie lejka" counted as
skips. A move skips only the stages there at the move
(``crm.lead.stage.history``'s ``stage_there_at_sql``, the rule the backfill
and the 1.1.0 migration now follow): the rows of stages created after their
move go, in one statement; every other row stays."""

import logging

from odoo.tools import SQL

from odoo.addons.sales_funnel_pl.models.crm_lead_stage_history import (
    stage_there_at_sql,
)

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    cr.execute(
        SQL(
            """DELETE FROM crm_lead_stage_history_skip k
                USING crm_stage s
                WHERE s.id = k.stage_id AND NOT %s""",
            stage_there_at_sql("s", SQL("k.date_enter")),
        )
    )
    _logger.info(
        "sales_funnel_pl 1.7.0: %s skipped-stage rows of stages created after "
        "their move removed",
        cr.rowcount,
    )
