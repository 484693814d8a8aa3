from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import compat
from ..report.sql import lead_values_at_sql
from ..utils import Progress, success_notification, user_tz
from .crm_lead_value_change import RECORDING_START_PARAM

# the months a snapshot looks ahead: the snapshot's own month and the 11 after
SNAPSHOT_MONTHS = 12
# history rows read at a time when the past forecasts are rebuilt
REBUILD_CHUNK = 500000

SNAPSHOT_UNIQUE_INDEX = """
CREATE UNIQUE INDEX IF NOT EXISTS sales_funnel_forecast_snapshot_line_uniq
    ON sales_funnel_forecast_snapshot (
        date_snapshot, company_id, COALESCE(date_expected, '0001-01-01'::date),
        is_overdue, COALESCE(team_id, 0), COALESCE(user_id, 0), stage_id)
"""

# columns of a snapshot line, in the order both statements select them
SNAPSHOT_COLUMNS = """
    date_snapshot, date_expected, is_overdue, team_id, user_id, stage_id,
    company_id, currency_id, source, opportunity_count, expected_revenue,
    prorated_revenue, create_uid, create_date, write_uid, write_date
"""


class SalesFunnelForecastSnapshot(models.Model):
    """The forecast as it stood on a day: open opportunities summed per
    expected closing month, sales team, salesperson and stage, in the
    company's currency. Lines are facts: written by one SQL statement per
    snapshot (the monthly scheduled action, a sales manager's button, or
    the install's reconstruction from the stage history), never changed
    and kept forever, so that a later change of a stage's probability does
    not rewrite what was forecast."""

    _name = "sales.funnel.forecast.snapshot"
    _description = "Sales Forecast Snapshot"
    _order = "date_snapshot desc, date_expected, id"
    _rec_name = "date_snapshot"

    date_snapshot = fields.Date(
        string="Snapshot Date", required=True, index=True, readonly=True
    )
    date_expected = fields.Date(
        string="Expected Closing Month",
        readonly=True,
        help="First day of the month in which the opportunities were expected to "
        "close; empty when they had no expected closing date. Overdue ones count "
        "in the snapshot's own month.",
    )
    is_overdue = fields.Boolean(
        string="Overdue",
        readonly=True,
        help="Opportunities whose expected closing month was already past when the "
        "snapshot was taken; they count in the snapshot's month.",
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", index=True, readonly=True, ondelete="set null"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    stage_id = fields.Many2one(
        "crm.stage", string="Stage", required=True, readonly=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    currency_id = fields.Many2one(
        "res.currency",
        string="Currency",
        required=True,
        readonly=True,
        help="The company's currency when the snapshot was taken.",
    )
    source = fields.Selection(
        [("live", "Taken"), ("history", "Rebuilt from the stage history")],
        required=True,
        readonly=True,
        default="live",
    )
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)
    expected_revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    prorated_revenue = fields.Monetary(
        string="Forecast (Weighted)",
        currency_field="currency_id",
        readonly=True,
        help="Expected revenue times the probability the opportunities had then.",
    )

    def init(self):
        # one line per group and snapshot, whoever takes it at the same time
        self.env.cr.execute(SNAPSHOT_UNIQUE_INDEX)

    @api.model
    def _scope_sql(self, month, deadline):
        """SQL: the expected closing month a snapshot of ``month`` (SQL, a
        month's first day) gives an expected closing date ``deadline``
        (SQL), or NULL (no date), and whether it is overdue; with the
        condition keeping the next 12 months, the overdue and the undated."""
        return (
            SQL(
                """CASE WHEN %(deadline)s IS NULL THEN NULL
                        WHEN %(deadline)s < %(month)s THEN %(month)s
                        ELSE date_trunc('month', %(deadline)s)::date END""",
                deadline=deadline,
                month=month,
            ),
            SQL(
                "COALESCE(%(deadline)s < %(month)s, false)",
                deadline=deadline,
                month=month,
            ),
            SQL(
                "(%(deadline)s IS NULL"
                " OR %(deadline)s < (%(month)s + %(months)s * interval '1 month'))",
                deadline=deadline,
                month=month,
                months=SNAPSHOT_MONTHS,
            ),
        )

    @api.model
    def _insert(self, companies, month, query, **params):
        """Run the snapshot statement ``query`` (see the callers) for
        ``companies``, the snapshot's month being ``month`` (SQL); return
        the number of lines written."""
        expected, overdue, in_scope = self._scope_sql(month, SQL("l.date_deadline"))
        self.env.cr.execute(
            SQL(
                query,
                columns=SQL(SNAPSHOT_COLUMNS),
                expected=expected,
                overdue=overdue,
                in_scope=in_scope,
                companies=tuple(companies.ids),
                default=companies[:1].id,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                **params,
            )
        )
        written = self.env.cr.rowcount
        self.invalidate_model()
        return written

    @api.model
    def _take_snapshot(self, companies, day):
        """Store the forecast of ``companies`` as it stands now, dated
        ``day``, in one statement. A company already having a snapshot of
        that day keeps it unchanged (the first one of the day stands), so
        that running it again the same day changes nothing. Opportunities
        without a company count in their team's company, else in the first
        of ``companies``. Returns the number of lines written."""
        self.env["crm.lead"].flush_model()
        month = day.replace(day=1)
        return self._insert(
            companies,
            SQL("%s::date", month),
            """
            INSERT INTO sales_funnel_forecast_snapshot (%(columns)s)
            SELECT %(day)s, %(expected)s, %(overdue)s, l.team_id, l.user_id, l.stage_id,
                   c.id, c.currency_id, 'live', count(*), SUM(l.expected_revenue),
                   SUM(l.prorated_revenue), %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
              LEFT JOIN crm_team t ON t.id = l.team_id
              JOIN res_company c ON c.id = COALESCE(l.company_id, t.company_id,
                  %(default)s)
             WHERE l.active AND l.type = 'opportunity' AND %(won)s IS NOT TRUE
               AND %(in_scope)s
               AND c.id IN %(companies)s
               AND NOT EXISTS (SELECT 1 FROM sales_funnel_forecast_snapshot x
                                WHERE x.date_snapshot = %(day)s AND x.company_id = c.id)
             GROUP BY 2, 3, l.team_id, l.user_id, l.stage_id, c.id
            ON CONFLICT DO NOTHING
            """,
            day=day,
            won=compat.lead_won_sql("l", "s"),
        )

    @api.model
    def _rebuild_values_sql(self):
        """SQL of the rebuild's statement for the values an opportunity (its
        history row aliased ``h``, the opportunity ``l``, the month's first
        midnight ``m.moment``) had at that midnight: ``join`` (a lateral
        join, if any), ``deadline``, ``revenue``, ``prorated``.

        Where its changes were recorded (``crm.lead.value.change``, from the
        recording's start on) the values are the recorded ones, by the one
        rule of ``lead_values_at_sql``. Before the recording's start the
        revenue and probability are the stage history row's (as they were
        when the stage was entered) and the closing date the earliest one
        known (the rule's: the one before its first recorded change, else
        today's). Without any recorded change (the install), the history
        row's values and today's closing date, with no join."""
        self.env["crm.lead.value.change"].flush_model()
        self.env.cr.execute(
            """SELECT (SELECT value FROM ir_config_parameter WHERE key = %s)
                WHERE EXISTS (SELECT 1 FROM crm_lead_value_change)""",
            [RECORDING_START_PARAM],
        )
        row = self.env.cr.fetchone()
        if not row:
            return {
                "join": SQL(),
                "deadline": SQL("l.date_deadline"),
                "revenue": SQL("h.expected_revenue"),
                "prorated": SQL("h.prorated_revenue"),
            }
        recorded = SQL("m.moment >= %s::timestamp", row[0] or "infinity")
        return {
            "join": SQL(
                "CROSS JOIN LATERAL %s AS v", lead_values_at_sql("l", SQL("m.moment"))
            ),
            "deadline": SQL("v.date_deadline"),
            "revenue": SQL(
                "CASE WHEN %s THEN v.expected_revenue ELSE h.expected_revenue END",
                recorded,
            ),
            "prorated": SQL(
                """CASE WHEN %s
                        THEN round((v.expected_revenue * v.probability
                                    / 100.0)::numeric, 2)
                        ELSE h.prorated_revenue END""",
                recorded,
            ),
        }

    @api.model
    def _rebuild_from_history(self, companies, tz=None):
        """Store, for each month's first day from the month after the first
        stage history row to the current month, the forecast as it stood
        at midnight of that day (in the time zone ``tz``, else the user's):
        the opportunities open then, in the stage, for the salesperson and
        team, at the probability and expected revenue their stage history
        row recorded then, and, from the start of the recording of their
        changes on, the closing date, revenue and probability they had then
        (``_rebuild_values_sql``); before it, the closing date is the earliest
        one known (today's for what predates the recording). Days already
        holding a company's snapshot are kept.

        Each history row is read once, in chunks (with progress lines), and
        gives the months whose first midnight it stood over: never every
        row against every month (ten years of a million opportunities would
        be a billion comparisons). Returns the number of lines written."""
        self.env["crm.lead"].flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        tz = tz or user_tz(self.env)
        cr = self.env.cr
        last = fields.Date.context_today(self).replace(day=1)
        cr.execute(
            SQL(
                """SELECT (date_trunc('month', MIN(date_enter) AT TIME ZONE 'UTC'
                                      AT TIME ZONE %s) + interval '1 month')::date,
                          MIN(id), MAX(id)
                     FROM crm_lead_stage_history""",
                tz,
            )
        )
        first, min_id, max_id = cr.fetchone()
        if first is None or first > last:
            return 0
        values = self._rebuild_values_sql()
        expected, overdue, in_scope = self._scope_sql(SQL("m.day"), values["deadline"])
        cr.execute(
            """DROP TABLE IF EXISTS sales_funnel_pl_rebuild;
               CREATE TEMP TABLE sales_funnel_pl_rebuild (
                   day date, date_expected date, is_overdue boolean, team_id int,
                   user_id int, stage_id int, company_id int, currency_id int,
                   n int, expected_revenue numeric, prorated_revenue numeric
               ) ON COMMIT DROP"""
        )
        progress = Progress(
            "sales_funnel_pl: past forecasts", max_id - min_id + 1, "history ids"
        )
        for low in range(min_id, max_id + 1, REBUILD_CHUNK):
            cr.execute(
                SQL(
                    """
                INSERT INTO sales_funnel_pl_rebuild
                SELECT m.day, %(expected)s, %(overdue)s, h.team_id, h.salesperson_id,
                       h.stage_id, c.id, c.currency_id, count(*),
                       SUM(%(revenue)s), SUM(%(prorated)s)
                  FROM crm_lead_stage_history h
                  -- the first days of the months the row may have stood
                  -- over (from its entry's month to its exit's), kept when
                  -- it stood over their midnight
                  CROSS JOIN LATERAL (
                      SELECT d::date AS day,
                             (d::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
                                 AS moment
                        FROM generate_series(
                               GREATEST(%(first)s::date, date_trunc(
                                   'month', h.date_enter AT TIME ZONE 'UTC'
                                            AT TIME ZONE %(tz)s)::date),
                               LEAST(%(last)s::date, COALESCE(
                                   (h.date_leave AT TIME ZONE 'UTC'
                                    AT TIME ZONE %(tz)s)::date, %(last)s::date)),
                               interval '1 month') d
                  ) m
                  JOIN crm_stage s ON s.id = h.stage_id
                  JOIN crm_lead l ON l.id = h.lead_id
                  %(values_join)s
                  LEFT JOIN crm_team t ON t.id = h.team_id
                  JOIN res_company c ON c.id = COALESCE(l.company_id, t.company_id,
                      %(default)s)
                 WHERE h.id >= %(low)s AND h.id < %(high)s
                   AND h.date_enter <= m.moment
                   AND (h.date_leave IS NULL OR h.date_leave > m.moment)
                   AND l.type = 'opportunity'
                   AND h.change_type NOT IN ('won', 'lost') AND s.is_won IS NOT TRUE
                   AND %(in_scope)s
                   AND c.id IN %(companies)s
                 GROUP BY m.day, 2, 3, h.team_id, h.salesperson_id, h.stage_id, c.id
                    """,
                    expected=expected,
                    overdue=overdue,
                    in_scope=in_scope,
                    tz=tz,
                    first=first,
                    last=last,
                    low=low,
                    high=low + REBUILD_CHUNK,
                    companies=tuple(companies.ids),
                    default=companies[:1].id,
                    values_join=values["join"],
                    revenue=values["revenue"],
                    prorated=values["prorated"],
                )
            )
            progress.advance(min(REBUILD_CHUNK, max_id + 1 - low))
        progress.finish()
        now = fields.Datetime.now()
        cr.execute(
            SQL(
                """
            INSERT INTO sales_funnel_forecast_snapshot (%(columns)s)
            SELECT r.day, r.date_expected, r.is_overdue, r.team_id, r.user_id,
                   r.stage_id, r.company_id, r.currency_id, 'history', SUM(r.n),
                   SUM(r.expected_revenue), SUM(r.prorated_revenue),
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM sales_funnel_pl_rebuild r
             WHERE NOT EXISTS (SELECT 1 FROM sales_funnel_forecast_snapshot x
                                WHERE x.date_snapshot = r.day
                                  AND x.company_id = r.company_id)
             GROUP BY r.day, r.date_expected, r.is_overdue, r.team_id, r.user_id,
                      r.stage_id, r.company_id, r.currency_id
            ON CONFLICT DO NOTHING
                """,
                columns=SQL(SNAPSHOT_COLUMNS),
                uid=self.env.uid,
                now=now,
            )
        )
        written = cr.rowcount
        cr.execute("DROP TABLE sales_funnel_pl_rebuild")
        # fresh statistics, so that the reports' first reads are planned well
        cr.execute("ANALYZE sales_funnel_forecast_snapshot")
        self.invalidate_model()
        return written

    def action_take_snapshot(self):
        """The "Save the forecast" button: today's snapshot of the companies
        the sales manager works in. A button of the list's header: the web
        client calls it on the records selected, none here (an empty
        recordset: ``/web/dataset/call_button`` with ``args=[[]]``), which an
        ``@api.model`` method would take for an extra argument."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only a sales manager can save the forecast."))
        written = self.sudo()._take_snapshot(
            self.env.companies, fields.Date.context_today(self)
        )
        if written:
            message = self.env._(
                "The forecast is saved: %(count)s lines.", count=written
            )
        else:
            message = self.env._(
                "Today's forecast was already saved; it stays as it was saved."
            )
        action = success_notification(message)
        action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action

    @api.model
    def _cron_take_snapshot(self):
        """Monthly scheduled action (on the 1st): the forecast of every company."""
        companies = self.env["res.company"].sudo().search([])
        self.sudo()._take_snapshot(companies, fields.Date.context_today(self))
