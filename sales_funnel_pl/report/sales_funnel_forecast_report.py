# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from .. import compat
from ..utils import percent_sql, sum_sql, user_tz
from . import sql


class SalesFunnelForecastReport(models.Model):
    """Sales forecast per coming period: open opportunities weighted by
    their probability on their expected closing date (or in a visible "no
    expected date" bucket), beside what was already won in each period.

    Amounts are in the currency of the company the user works in: each
    opportunity's amount (in its own company's currency) is converted at
    today's rate, so several companies with different currencies add up."""

    _name = "sales.funnel.forecast.report"
    _description = "Sales Funnel Forecast"
    _auto = False
    _rec_name = "lead_id"
    _order = "date"
    # what the statement reads: pending changes are written before a read
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_closed",
            "date_deadline",
            "date_last_stage_update",
            "date_process_end",
            "expected_revenue",
            "partner_id",
            "prorated_revenue",
            "stage_id",
            "team_id",
            "type",
            "user_id",
            *compat.LEAD_WON_COLUMNS,
        ],
        "crm.stage": ["is_won"],
        "sales.funnel.target": ["date", "team_id", "user_id", "company_id", "amount"],
        **sql.RATES_DEPENDS,
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    company_currency = fields.Many2one(
        "res.currency",
        string="Currency",
        readonly=True,
        help="Currency of the current company; amounts are converted into it.",
    )
    date = fields.Date(
        string="Period",
        readonly=True,
        help="Expected closing date of an open opportunity, closing date of a won "
        "one (the user's day, in their time zone).",
    )
    kind = fields.Selection(
        [("open", "Open"), ("won", "Won"), ("target", "Target")],
        string="Status",
        readonly=True,
    )
    has_date = fields.Boolean(string="Has an Expected Date", readonly=True)
    is_overdue = fields.Boolean(
        string="Overdue Expected Date",
        readonly=True,
        help="Open opportunity whose expected closing month is already past.",
    )
    opportunity_count = fields.Integer(string="Open Opportunities", readonly=True)
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    prorated_revenue = fields.Monetary(
        string="Forecast (Weighted)", currency_field="company_currency", readonly=True
    )
    won_revenue = fields.Monetary(
        string="Won in the Period", currency_field="company_currency", readonly=True
    )
    target_amount = fields.Monetary(
        string="Target",
        currency_field="company_currency",
        readonly=True,
        help="The monthly sales targets of the teams and salespeople (rows of "
        "their own, without an opportunity).",
    )
    target_due = fields.Monetary(
        string="Target to Date",
        currency_field="company_currency",
        readonly=True,
        help="The targets of the months up to and including the current one: "
        "the months where winning was possible, which the attainment measures.",
    )
    attainment = fields.Float(
        string="Target Attainment (%)",
        readonly=True,
        aggregator="avg",
        help="What was won, in % of the target of the months up to and including "
        "the current one (a month still to come has nothing won yet).",
    )
    coverage = fields.Float(
        string="Target Coverage (%)",
        readonly=True,
        aggregator="avg",
        help="The forecast (won and weighted open) in % of the target: how much "
        "of a month's target its opportunities cover.",
    )

    @property
    def _table_query(self):
        # all in SQL, so that the report's read stays one query. The open
        # opportunities and the won ones are read apart, each by an index
        # (a default filter on the period then reads the won sales of the
        # period, not every sale of every past year): the open ones through
        # crm_lead_funnel_open_idx, the won ones by their process end (the
        # day the sale ended), those without one by crm_lead_funnel_unended_idx
        day = fields.Date.context_today(self)
        return SQL(
            """
            WITH %(rates)s
            SELECT l.id, l.id AS lead_id, l.stage_id, l.team_id, l.user_id,
                   l.partner_id, l.company_id, r.currency_id AS company_currency,
                   -- open: the expected day
                   l.date_deadline AS date, 'open' AS kind,
                   l.date_deadline IS NOT NULL AS has_date,
                   l.date_deadline < date_trunc('month', %(today)s::date)::date
                       AS is_overdue,
                   1 AS opportunity_count,
                   l.expected_revenue * r.rate AS expected_revenue,
                   l.prorated_revenue * r.rate AS prorated_revenue,
                   0 AS won_revenue, 0 AS target_amount, 0 AS target_due,
                   NULL::float AS attainment, NULL::float AS coverage
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
              JOIN rates r ON r.company_id = %(company)s
             WHERE %(open)s
             UNION ALL
            -- won (19.0 keeps an archived won opportunity won): the day the
            -- sale ended, its process end where there is one
            SELECT l.id, l.id, l.stage_id, l.team_id, l.user_id, l.partner_id,
                   l.company_id, r.currency_id, l.date_process_end, 'won', true,
                   false, 0, 0, 0, l.expected_revenue * r.rate, 0, 0,
                   NULL::float, NULL::float
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
              JOIN rates r ON r.company_id = %(company)s
             WHERE l.date_process_end IS NOT NULL AND l.type = 'opportunity'
               AND %(won)s
             UNION ALL
            SELECT l.id, l.id, l.stage_id, l.team_id, l.user_id, l.partner_id,
                   l.company_id, r.currency_id, %(won_day)s, 'won', true,
                   false, 0, 0, 0, l.expected_revenue * r.rate, 0, 0,
                   NULL::float, NULL::float
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
              JOIN rates r ON r.company_id = %(company)s
             WHERE l.date_process_end IS NULL AND l.type = 'opportunity'
               AND %(won_indexed)s AND %(won)s
             UNION ALL
            -- the targets, on rows of their own (negative ids, no opportunity)
            SELECT -t.id, NULL, NULL, t.team_id, t.user_id, NULL, t.company_id,
                   r.currency_id, t.date, 'target', true, false, 0, 0, 0, 0,
                   t.amount * r.rate,
                   CASE WHEN %(due)s THEN t.amount * r.rate ELSE 0 END,
                   NULL::float, NULL::float
              FROM (%(targets)s) t
              JOIN rates r ON r.company_id = t.company_id
            """,
            rates=sql.currency_rates_sql(self.env),
            targets=self.env["sales.funnel.target"]._report_rows_sql(),
            company=sql.lead_company_sql(self.env, "l"),
            won_day=sql.won_day_sql("l", user_tz(self.env)),
            today=day,
            due=sql.month_due_sql(SQL("t.date"), day),
            open=compat.open_lead_sql("l", "s"),
            won=sql.won_sql("l", "s"),
            won_indexed=compat.won_lead_index_sql("l"),
        )

    def _read_group_select(self, aggregate_spec, query):
        # ratios of the group's sums: won in % of the target of the months
        # where winning was possible; won and weighted open in % of the target
        if aggregate_spec == "attainment:avg":
            return percent_sql(
                sum_sql(self, query, "won_revenue"),
                sum_sql(self, query, "target_due"),
            )
        if aggregate_spec == "coverage:avg":
            return percent_sql(
                SQL(
                    "(%s + %s)",
                    sum_sql(self, query, "won_revenue"),
                    sum_sql(self, query, "prorated_revenue"),
                ),
                sum_sql(self, query, "target_amount"),
            )
        return super()._read_group_select(aggregate_spec, query)
