from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import compat
from ..utils import percent_sql, sum_sql, user_tz
from . import sql

# how many months before its month a forecast may have been taken
MAX_HORIZON = 12


class SalesFunnelForecastWonReport(models.Model):
    """Forecast vs. won ("Prognoza a wykonanie"): per month, what the stored
    forecast snapshot expected to close in it (weighted), next to what was
    won in it and the month's sales target.

    The forecast of a month is read from the first snapshot taken in that
    month (the one of its first day, taken by the scheduled action), or,
    with the horizon N (context ``sales_funnel_horizon``, set by the search
    filters), from the first snapshot taken N months earlier. Won sales
    count in the month of their closing day in the user's time zone.
    Amounts are converted into the current company's currency at today's
    rate, as in the forecast."""

    _name = "sales.funnel.forecast.won.report"
    _description = "Sales Forecast vs. Won"
    _auto = False
    _order = "date"
    # what the statement reads: pending changes are written before a read
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_closed",
            "date_last_stage_update",
            "date_process_end",
            "expected_revenue",
            "stage_id",
            "team_id",
            "type",
            "user_id",
            *compat.LEAD_WON_COLUMNS,
        ],
        "crm.stage": ["is_won"],
        "sales.funnel.forecast.snapshot": [
            "company_id",
            "date_expected",
            "date_snapshot",
            "expected_revenue",
            "opportunity_count",
            "prorated_revenue",
            "stage_id",
            "team_id",
            "user_id",
        ],
        "sales.funnel.target": ["date", "team_id", "user_id", "company_id", "amount"],
        **sql.RATES_DEPENDS,
    }

    date = fields.Date(string="Month", readonly=True)
    kind = fields.Selection(
        [("forecast", "Forecast (Weighted)"), ("won", "Won"), ("target", "Target")],
        string="Figure",
        readonly=True,
    )
    horizon = fields.Integer(
        string="Months Ahead",
        readonly=True,
        aggregator="max",
        help="How many months before the month the forecast was taken.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    company_currency = fields.Many2one("res.currency", string="Currency", readonly=True)
    forecast_count = fields.Integer(string="Forecast Opportunities", readonly=True)
    forecast_expected = fields.Monetary(
        string="Forecast Expected Revenue",
        currency_field="company_currency",
        readonly=True,
    )
    forecast_revenue = fields.Monetary(
        string="Forecast (Weighted)", currency_field="company_currency", readonly=True
    )
    won_count = fields.Integer(string="Won Opportunities", readonly=True)
    won_revenue = fields.Monetary(
        string="Won", currency_field="company_currency", readonly=True
    )
    target_amount = fields.Monetary(
        string="Target", currency_field="company_currency", readonly=True
    )
    difference = fields.Monetary(
        string="Won - Forecast", currency_field="company_currency", readonly=True
    )
    amount = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="The forecast, the won or the target amount, as the figure says: to "
        "draw them side by side.",
    )
    accuracy = fields.Float(
        string="Forecast Accuracy (%)",
        readonly=True,
        aggregator="avg",
        help="100% when what was won equals the weighted forecast; less by the "
        "difference, in % of the forecast (never below 0). Months up to and "
        "including the current one only: nothing can be won yet in a month still "
        "to come.",
    )
    attainment = fields.Float(
        string="Target Attainment (%)",
        readonly=True,
        aggregator="avg",
        help="What was won, in % of the target of the months up to and including "
        "the current one (a month still to come has nothing won yet).",
    )

    @api.model
    def _horizon(self):
        horizon = self.env.context.get("sales_funnel_horizon") or 0
        if not isinstance(horizon, int) or not 0 <= horizon <= MAX_HORIZON:
            raise UserError(
                self.env._(
                    "A forecast can be read from 0 to %(max)s months ahead.",
                    max=MAX_HORIZON,
                )
            )
        return horizon

    @property
    def _table_query(self):
        # one statement: forecast lines of the chosen snapshots, won sales
        # and targets (a team's share not given to its salespeople shows as
        # the team's own), each converted into the current company's currency
        return SQL(
            """
            WITH %(rates)s, firsts AS MATERIALIZED (
                -- (computed once: a few rows per company and month, never
                -- again for each forecast line, whatever the statistics say)
                SELECT company_id, min(date_snapshot) AS day
                  FROM sales_funnel_forecast_snapshot
                 WHERE company_id IN %(companies)s
                 GROUP BY company_id, date_trunc('month', date_snapshot)
            ), targets AS (%(targets)s
            ), lines AS (
                SELECT 3 * sn.id AS id, 'forecast' AS kind, sn.date_expected AS date,
                       sn.team_id, sn.user_id, sn.stage_id, sn.company_id,
                       sn.opportunity_count AS forecast_count,
                       sn.expected_revenue AS forecast_expected,
                       sn.prorated_revenue AS forecast_revenue,
                       0 AS won_count, 0 AS won_revenue, 0 AS target_amount
                  FROM sales_funnel_forecast_snapshot sn
                  JOIN firsts f ON f.company_id = sn.company_id AND f.day =
                      sn.date_snapshot
                 WHERE sn.date_expected
                       = (date_trunc('month', sn.date_snapshot) + %(horizon)s *
                           interval '1 month')::date
                UNION ALL
                -- the won sales, in the month of the day the sale ended: its
                -- process end where there is one (read by the index of the
                -- processes' end months, crm_lead_funnel_end_month_idx, when
                -- the months are filtered), else crm's closing day (read by
                -- crm_lead_funnel_unended_idx)
                SELECT 3 * l.id + 1, 'won', %(end_month)s,
                       l.team_id, l.user_id, l.stage_id, %(company)s,
                       0, 0, 0, 1, l.expected_revenue, 0
                  FROM crm_lead l
                  JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.date_process_end IS NOT NULL AND l.type = 'opportunity'
                   AND %(won)s
                UNION ALL
                SELECT 3 * l.id + 1, 'won',
                       date_trunc('month', %(won_day)s::timestamp)::date,
                       l.team_id, l.user_id, l.stage_id, %(company)s,
                       0, 0, 0, 1, l.expected_revenue, 0
                  FROM crm_lead l
                  JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.date_process_end IS NULL AND l.type = 'opportunity'
                   AND %(won_indexed)s AND %(won)s
                UNION ALL
                SELECT 3 * t.id + 2, 'target', t.date, t.team_id, t.user_id, NULL,
                       t.company_id, 0, 0, 0, 0, 0, t.amount
                  FROM targets t
            )
            SELECT x.id, x.kind, x.date, %(horizon)s AS horizon, x.team_id, x.user_id,
                   x.stage_id, x.company_id, r.currency_id AS company_currency,
                   x.forecast_count, x.forecast_expected * r.rate AS forecast_expected,
                   x.forecast_revenue * r.rate AS forecast_revenue,
                   x.won_count, x.won_revenue * r.rate AS won_revenue,
                   x.target_amount * r.rate AS target_amount,
                   (x.won_revenue - x.forecast_revenue) * r.rate AS difference,
                   (x.forecast_revenue + x.won_revenue + x.target_amount) * r.rate AS
                       amount,
                   NULL::float AS accuracy, NULL::float AS attainment
              FROM lines x
              JOIN rates r ON r.company_id = x.company_id
            """,
            rates=sql.currency_rates_sql(self.env),
            targets=self.env["sales.funnel.target"]._report_rows_sql(),
            companies=tuple(self.env.companies.ids),
            company=sql.lead_company_sql(self.env, "l"),
            horizon=self._horizon(),
            won_day=sql.won_day_sql("l", user_tz(self.env)),
            end_month=SQL(sql.PROCESS_END_MONTH.format(lead="l")),
            won=sql.won_sql("l", "s"),
            won_indexed=compat.won_lead_index_sql("l"),
        )

    def _read_group_select(self, aggregate_spec, query):
        # the ratios of the group's sums, not an average of the rows' ratios
        # of the months where winning was possible only (up to the current
        # one): a month still to come has a forecast and a target, and
        # nothing won yet
        if aggregate_spec == "attainment:avg":
            return percent_sql(
                sum_sql(self, query, "won_revenue"),
                sql.due_sum_sql(self, query, "target_amount"),
            )
        if aggregate_spec == "accuracy:avg":
            won = sum_sql(self, query, "won_revenue")
            forecast = sql.due_sum_sql(self, query, "forecast_revenue")
            # none without a forecast (GREATEST would turn NULL into 0)
            return SQL(
                "CASE WHEN %s <> 0 THEN GREATEST(100 - %s, 0) END",
                forecast,
                percent_sql(SQL("ABS(%s - %s)", won, forecast), forecast),
            )
        return super()._read_group_select(aggregate_spec, query)
