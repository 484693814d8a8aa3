# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.5.0: one sales target per month, company, team and salesperson is held
by the database too (a unique index, created by the model's ``init`` once
this has run). Until 1.5.0 only Python checked it, so two managers saving the
same target at the same time both got it in; the reports then counted the
target twice.

Such duplicates would make the index, and so the upgrade, fail. They are
resolved here: of each set, the target changed last stays (what a manager
entered last), the others are deleted, and each deleted target is logged
with its values (a WARNING), so that nothing goes without a trace. The SQL
is frozen here, as the index's key was at 1.5.0."""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute("SELECT to_regclass('sales_funnel_target') IS NOT NULL")
    if not cr.fetchone()[0]:
        return
    cr.execute(
        """
        WITH ranked AS (
            SELECT id, first_value(id) OVER same AS kept_id,
                   row_number() OVER same AS rank
              FROM sales_funnel_target
            WINDOW same AS (
                PARTITION BY date, company_id, team_id, COALESCE(user_id, 0)
                ORDER BY write_date DESC NULLS LAST, id DESC)
        )
        DELETE FROM sales_funnel_target t
         USING ranked r
         WHERE r.id = t.id AND r.rank > 1
        RETURNING t.id, r.kept_id, t.date, t.company_id, t.team_id, t.user_id,
                  t.amount
        """
    )
    for target_id, kept_id, day, company_id, team_id, user_id, amount in sorted(
        cr.fetchall()
    ):
        _logger.warning(
            "Sales target %s deleted: a duplicate of target %s (month %s, "
            "company %s, sales team %s, salesperson %s); its amount was %s.",
            target_id,
            kept_id,
            day,
            company_id,
            team_id,
            user_id or "none",
            amount,
        )
