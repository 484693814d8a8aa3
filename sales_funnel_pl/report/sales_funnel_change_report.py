# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import compat
from ..utils import jit_off, user_tz
from . import sql

# the bars of the waterfall, in their order (the graph's and the list's)
BARS = [
    ("start", "Open at the start"),
    ("new", "New"),
    ("restored", "Restored"),
    ("pulled_in", "Pulled in from later months"),
    ("pushed_out", "Pushed out to later months"),
    ("moved", "Moved from or to earlier months or no date"),
    ("raised", "Value raised"),
    ("lowered", "Value lowered"),
    ("probability", "Probability changed"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("end", "Open at the end"),
]
BAR_KEYS = [key for key, _label in BARS]

# the reading's period and closing month, in the action's context
CONTEXT_FROM = "sales_funnel_change_from"
CONTEXT_TO = "sales_funnel_change_to"
CONTEXT_MONTH = "sales_funnel_change_month"


def default_period(today):
    """(first day, last day) of the reading by default: from the 1st of last
    month to ``today`` (the user's day)."""
    return today.replace(day=1) - relativedelta(months=1), today


class SalesFunnelChangeReport(models.Model):
    """What changed in the open pipeline between two dates ("Zmiany w
    lejku"), change by change: one row per opportunity and moment that moved
    the pipeline's value, and one row per opportunity open at the start and
    at the end. Each row belongs to one bar of the waterfall; the bars add
    up, to the grosz, from the open pipeline at the start to the open
    pipeline at the end, in expected and in weighted value (expected revenue
    × probability), in the current company's currency.

    The period and, for the second reading, the closing month come from the
    context (``sales_funnel_change_from``, ``sales_funnel_change_to``,
    ``sales_funnel_change_month``; by default from the 1st of last month to
    today). The start is the midnight that opens the first day, the end the
    midnight that closes the last one (now when that is today or later),
    in the user's time zone.

    What an opportunity held at a moment: open or not from its stage history
    (the row it stood in then: neither won nor lost, in a stage not won, as
    the past forecasts rebuilt from the history read it), its expected
    closing date, revenue and probability from the recorded value changes
    (``crm.lead.value.change``: the old values of its first change after the
    moment, else its values at the end, the rule of
    ``sql.lead_values_at_sql``, computed here for every moment of the period
    at once). At each moment something happened to an opportunity:

    - it opens (entered the pipeline or the month): its value after counts,
      as new (no history before), restored (lost or won before), or, for the
      month, pulled in (its closing date was in a later month) or moved;
    - it closes (won, lost, or left the month): its value before counts,
      negative, as won, lost, pushed out (a slip: ``sql.slipped_sql``) or
      moved;
    - it stays: the change of its value splits into the revenue's part
      (raised or lowered, at the probability before) and the probability's
      part (stage moves and hand edits, at the revenue after).

    Opportunities are those the user may read (crm's record rules, through
    ``_search``), each counted in its current sales team, salesperson and
    company for the whole period. One statement per read."""

    _name = "sales.funnel.change.report"
    _description = "Pipeline Changes"
    _auto = False
    _rec_name = "lead_id"
    # the largest changes first, whatever their sign
    _order = "weighted_impact desc, id"
    # what the statement reads: pending changes are written before a read
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_deadline",
            "date_process_end",
            "expected_revenue",
            "probability",
            "prorated_revenue",
            "stage_id",
            "team_id",
            "type",
            "user_id",
            *compat.LEAD_WON_COLUMNS,
        ],
        "crm.lead.stage.history": ["change_type", "date_enter", "lead_id", "stage_id"],
        "crm.lead.value.change": [
            "date",
            "lead_id",
            "old_date_deadline",
            "old_expected_revenue",
            "old_probability",
        ],
        "crm.stage": ["is_won"],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    bar = fields.Selection(BARS, readonly=True)
    date = fields.Datetime(
        string="Changed on",
        readonly=True,
        help="When the change was made; the start and the end of the period for "
        "the opportunities open then.",
    )
    weighted_amount = fields.Monetary(
        string="Weighted",
        currency_field="currency_id",
        readonly=True,
        aggregator="sum",
        help="What the row adds to the bar in weighted value (expected revenue × "
        "probability): the value at the start or the end, else the change.",
    )
    expected_amount = fields.Monetary(
        string="Expected",
        currency_field="currency_id",
        readonly=True,
        aggregator="sum",
        help="What the row adds to the bar in expected revenue: the value at the "
        "start or the end, else the change.",
    )
    weighted_impact = fields.Monetary(
        string="Size",
        currency_field="currency_id",
        readonly=True,
        aggregator="sum",
        help="The weighted amount without its sign, to put the largest changes on top.",
    )
    weighted_before = fields.Monetary(
        currency_field="currency_id", readonly=True, aggregator=None
    )
    weighted_after = fields.Monetary(
        currency_field="currency_id", readonly=True, aggregator=None
    )
    expected_before = fields.Monetary(
        currency_field="currency_id", readonly=True, aggregator=None
    )
    expected_after = fields.Monetary(
        currency_field="currency_id", readonly=True, aggregator=None
    )
    probability_before = fields.Float(readonly=True, aggregator=None)
    probability_after = fields.Float(readonly=True, aggregator=None)
    date_deadline_before = fields.Date(string="Expected Closing Before", readonly=True)
    date_deadline_after = fields.Date(string="Expected Closing After", readonly=True)

    # ------------------------------------------------------------
    # THE READING
    # ------------------------------------------------------------

    @api.model
    def _change_period(self):
        """(first day, last day, closing month's first day or None) of the
        reading, from the context, checked."""
        today = fields.Date.context_today(self)
        context = self.env.context
        default_from, default_to = default_period(today)
        try:
            date_from = fields.Date.to_date(context.get(CONTEXT_FROM)) or default_from
            date_to = fields.Date.to_date(context.get(CONTEXT_TO)) or default_to
            month = fields.Date.to_date(context.get(CONTEXT_MONTH) or None)
        except (TypeError, ValueError) as error:
            raise UserError(
                self.env._("The period of the pipeline changes is not a date.")
            ) from error
        if date_from > date_to:
            raise UserError(self.env._("The period cannot end before it starts."))
        if date_from > today:
            raise UserError(self.env._("The period cannot start in the future."))
        return date_from, date_to, month and month.replace(day=1)

    @api.model
    def _change_moments(self, date_from, date_to):
        """(start, end, at_now) of the period as UTC timestamps: the midnight
        opening ``date_from`` and the one closing ``date_to`` in the user's
        time zone, the end being now when that midnight is still to come."""
        tz = pytz.timezone(user_tz(self.env))

        def midnight(day):
            local = tz.localize(datetime.datetime.combine(day, datetime.time.min))
            return local.astimezone(datetime.UTC).replace(tzinfo=None)

        now = self.env.cr.now()
        end = midnight(date_to + relativedelta(days=1))
        if end >= now:
            return midnight(date_from), now, True
        return midnight(date_from), end, False

    @api.model
    def _change_leads_sql(self, domain, open_only=False):
        """SELECT of the opportunities of ``domain`` (the open ones only,
        with ``open_only``: ``compat.open_lead_sql``, through their index)
        the user may read (crm's record rules): id, team, salesperson,
        company, currency rate into the current company's, and their
        current values."""
        Lead = self.env["crm.lead"].with_context(active_test=False)
        query = Lead._search([("type", "=", "opportunity"), *domain])
        lead = query.table
        if open_only:
            query.add_where(compat.open_lead_sql(lead))

        def column(name):
            return SQL.identifier(lead, name)

        return query.select(
            SQL("%s AS id", column("id")),
            SQL("%s AS team_id", column("team_id")),
            SQL("%s AS user_id", column("user_id")),
            SQL("%s AS company_id", sql.lead_company_sql(self.env, lead)),
            SQL("%s AS expected_revenue", column("expected_revenue")),
            SQL("%s AS probability", column("probability")),
            SQL("%s AS prorated_revenue", column("prorated_revenue")),
            SQL("%s AS date_deadline", column("date_deadline")),
        )

    @property
    def _table_query(self):
        date_from, date_to, month = self._change_period()
        start, end, at_now = self._change_moments(date_from, date_to)
        # the opportunities that may have been open in the period: those
        # open now and those whose process ended since the day before the
        # start (a day's margin for the time zones), each found through an
        # index of its own (crm_lead_funnel_open_idx, date_process_end),
        # never every opportunity of past years
        candidates = SQL(
            "%s UNION %s",
            self._change_leads_sql([], open_only=True),
            self._change_leads_sql(
                [
                    ("active", "in", [True, False]),
                    ("date_process_end", ">=", date_from - relativedelta(days=1)),
                ]
            ),
        )
        if at_now:
            ends = SQL(
                """SELECT c.*, c.date_deadline AS end_date_deadline,
                          c.expected_revenue AS end_expected_revenue,
                          c.probability AS end_probability
                     FROM candidates c"""
            )
        else:
            ends = SQL(
                """SELECT cl.*, v.date_deadline AS end_date_deadline,
                          v.expected_revenue AS end_expected_revenue,
                          v.probability AS end_probability
                     FROM candidates cl CROSS JOIN LATERAL %s AS v""",
                sql.lead_values_at_sql("cl", SQL("%s::timestamp", end)),
            )
        if month:
            next_month = month + relativedelta(months=1)

            def in_scope(deadline):
                return SQL(
                    "COALESCE(%s >= %s AND %s < %s, false)",
                    deadline,
                    month,
                    deadline,
                    next_month,
                )

            later = SQL("COALESCE(v.old_date_deadline >= %s, false)", next_month)
        else:

            def in_scope(deadline):
                return SQL("TRUE")

            later = SQL("FALSE")
        return SQL(
            """
            WITH %(rates)s,
            candidates AS (%(candidates)s),
            leads AS (
                SELECT e.*, COALESCE(r.rate, 1.0) AS rate
                  FROM (%(ends)s) e
                  LEFT JOIN rates r ON r.company_id = e.company_id
            ),
            -- what each opportunity was at the start: open or not, seen
            -- (its last history row entered then)
            starts AS (
                SELECT l.id AS lead_id, COALESCE(h.open, false) AS open_start,
                       h.open IS NOT NULL AS seen
                  FROM leads l
                  LEFT JOIN LATERAL (
                      SELECT %(open)s AS open
                        FROM crm_lead_stage_history h
                        LEFT JOIN crm_stage s ON s.id = h.stage_id
                       WHERE h.lead_id = l.id AND h.date_enter <= %(start)s
                       ORDER BY h.date_enter DESC, h.id DESC
                       LIMIT 1) h ON true
            ),
            -- what happened to an opportunity in the period, moment by
            -- moment: the last history row it entered then (open after it
            -- or not, won), the first value change then (the values before
            -- it)
            changes AS (
                (SELECT DISTINCT ON (h.lead_id, h.date_enter)
                       h.lead_id, h.date_enter AS moment, %(open)s AS open_last,
                       true AS seen,
                       h.change_type = 'won' OR COALESCE(s.is_won, false) AS won_last,
                       false AS changed, NULL::date AS old_date_deadline,
                       NULL::numeric AS old_expected_revenue,
                       NULL::float8 AS old_probability
                  FROM crm_lead_stage_history h
                  JOIN leads l ON l.id = h.lead_id
                  LEFT JOIN crm_stage s ON s.id = h.stage_id
                 WHERE h.date_enter > %(start)s AND h.date_enter <= %(end)s
                 ORDER BY h.lead_id, h.date_enter, h.id DESC)
                UNION ALL
                (SELECT DISTINCT ON (v.lead_id, v.date)
                       v.lead_id, v.date, NULL, false, NULL, true,
                       v.old_date_deadline, v.old_expected_revenue, v.old_probability
                  FROM crm_lead_value_change v
                  JOIN leads l ON l.id = v.lead_id
                 WHERE v.date > %(start)s AND v.date <= %(end)s
                 ORDER BY v.lead_id, v.date, v.id)
            ),
            busy AS (SELECT DISTINCT lead_id FROM changes),
            -- the moments of the opportunities something happened to: the
            -- start, their changes, the end (the others, unchanged from
            -- start to end, are read once: "quiet" below)
            events AS (
                SELECT s.lead_id, %(start)s::timestamp AS moment,
                       s.open_start AS open_last, s.seen, NULL::boolean AS won_last,
                       false AS changed, NULL::date AS old_date_deadline,
                       NULL::numeric AS old_expected_revenue,
                       NULL::float8 AS old_probability
                  FROM starts s
                  JOIN busy b ON b.lead_id = s.lead_id
                UNION ALL
                SELECT * FROM changes
                UNION ALL
                SELECT b.lead_id, %(end)s::timestamp, NULL, false, NULL, false,
                       NULL, NULL, NULL
                  FROM busy b
            ),
            moments AS (
                SELECT lead_id, moment,
                       bool_or(open_last) AS open_last, bool_or(seen) AS seen,
                       bool_or(won_last) AS won_last, bool_or(changed) AS changed,
                       max(old_date_deadline) AS old_date_deadline,
                       max(old_expected_revenue) AS old_expected_revenue,
                       max(old_probability) AS old_probability
                  FROM events
                 GROUP BY lead_id, moment
            ),
            -- at each moment, in one pass over the opportunity's moments in
            -- their order: open before and after it (what the last history
            -- row entered before it, at or before it says), existed before
            -- it, and the values right before and right after it (the old
            -- values of the first change at or after it, after it; none:
            -- the values at the end)
            paired AS (
                SELECT m.lead_id, m.moment, m.won_last,
                       %(open_last)s[count(m.open_last) OVER o] AS open_after,
                       %(open_last)s[count(m.open_last) OVER o
                                     - CASE WHEN m.open_last IS NULL THEN 0 ELSE 1 END]
                           AS open_before,
                       count(*) FILTER (WHERE m.seen) OVER o
                           > CASE WHEN m.seen THEN 1 ELSE 0 END AS existed_before,
                       %(changes)s - %(changes_before)s AS changes_ahead,
                       %(changes)s - %(changes_until)s AS next_changes_ahead,
                       %(deadline)s[%(changes_before)s + 1] AS date_deadline,
                       %(revenue)s[%(changes_before)s + 1] AS expected_revenue,
                       %(probability)s[%(changes_before)s + 1] AS probability,
                       %(deadline)s[%(changes_until)s + 1] AS next_date_deadline,
                       %(revenue)s[%(changes_until)s + 1] AS next_expected_revenue,
                       %(probability)s[%(changes_until)s + 1] AS next_probability
                  FROM moments m
                -- o: up to the moment; w: every moment of the opportunity,
                -- in their order (each array made once per opportunity,
                -- read at the moment's place: the last open state at or
                -- before it, the first change at or after it)
                WINDOW o AS (PARTITION BY m.lead_id ORDER BY m.moment),
                       w AS (o ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            ),
            -- each moment valued in the current company's currency, in one
            -- join to its opportunity: the values before it (those of the
            -- first change at or after it) and after it (before the next
            -- moment), the end's when no change is ahead; computed once per
            -- moment (OFFSET 0: inlined into the bars' expressions, they
            -- were computed again for each bar)
            valued AS (
                SELECT m.*, l.team_id, l.user_id, l.company_id,
                       %(expected_old)s AS e_old, %(expected_new)s AS e_new,
                       %(weighted_old)s AS w_old, %(weighted_new)s AS w_new,
                       %(weighted_mid)s AS w_mid,
                       COALESCE(m.open_before, false) AND %(in_old)s AS in_old,
                       m.open_after AND %(in_new)s AS in_new
                  FROM paired p
                  JOIN leads l ON l.id = p.lead_id
                 CROSS JOIN LATERAL (
                     SELECT p.lead_id, p.moment, p.won_last, p.open_after,
                            p.open_before, p.existed_before,
                            CASE WHEN p.changes_ahead = 0 THEN l.end_date_deadline
                                 ELSE p.date_deadline END AS old_date_deadline,
                            CASE WHEN p.changes_ahead = 0 THEN l.end_expected_revenue
                                 ELSE p.expected_revenue END AS old_expected_revenue,
                            CASE WHEN p.changes_ahead = 0 THEN l.end_probability
                                 ELSE p.probability END AS old_probability,
                            CASE WHEN p.next_changes_ahead = 0 THEN l.end_date_deadline
                                 ELSE p.next_date_deadline END AS new_date_deadline,
                            CASE WHEN p.next_changes_ahead = 0
                                 THEN l.end_expected_revenue
                                 ELSE p.next_expected_revenue
                            END AS new_expected_revenue,
                            CASE WHEN p.next_changes_ahead = 0 THEN l.end_probability
                                 ELSE p.next_probability END AS new_probability
                 ) m
                OFFSET 0
            ),
            -- the bars of each moment, none to four, side by side in arrays
            -- read in step (no bar: NULL, dropped): the start and the end
            -- (what was open then); in the period, one of opened (entered
            -- the pipeline, or the month), closed (left it) or stayed with
            -- its revenue changed (the revenue's part); and the
            -- probability's part of a change of one that stayed
            bars AS (
                SELECT * FROM (
                    SELECT v.*,
                           unnest(ARRAY[
                               CASE WHEN v.moment = %(start)s AND v.in_new
                                    THEN 'start' END,
                               CASE WHEN v.moment = %(end)s AND v.in_new THEN 'end' END,
                               CASE WHEN v.moment <= %(start)s THEN NULL
                                    WHEN v.in_new AND NOT v.in_old
                                    THEN CASE WHEN COALESCE(v.open_before, false)
                                              THEN CASE WHEN %(later)s THEN 'pulled_in'
                                                        ELSE 'moved' END
                                              WHEN v.existed_before THEN 'restored'
                                              ELSE 'new' END
                                    WHEN v.in_old AND NOT v.in_new
                                    THEN CASE WHEN NOT v.open_after
                                              THEN CASE WHEN v.won_last THEN 'won'
                                                        ELSE 'lost' END
                                              WHEN %(slipped)s THEN 'pushed_out'
                                              ELSE 'moved' END
                                    WHEN v.in_old AND v.in_new
                                         AND COALESCE(v.new_expected_revenue, 0)
                                             <> COALESCE(v.old_expected_revenue, 0)
                                    THEN CASE WHEN COALESCE(v.new_expected_revenue, 0)
                                                   > COALESCE(v.old_expected_revenue, 0)
                                              THEN 'raised' ELSE 'lowered' END
                               END,
                               CASE WHEN v.moment > %(start)s AND v.in_old AND v.in_new
                                         AND v.w_new <> v.w_mid
                                    THEN 'probability' END
                           ]) AS bar,
                           %(expected_bars)s AS expected,
                           %(weighted_bars)s AS weighted
                      FROM valued v
                ) b
                 WHERE b.bar IS NOT NULL
            ),
            -- an opportunity nothing happened to in the period: open at
            -- the start (and so at the end) with its values at the end, or
            -- in neither bar
            quiet AS (
                SELECT l.id AS lead_id, l.team_id, l.user_id, l.company_id,
                       %(expected_end)s AS expected, %(weighted_end)s AS weighted,
                       l.end_date_deadline, l.end_expected_revenue, l.end_probability
                  FROM starts s
                  JOIN leads l ON l.id = s.lead_id
                 WHERE s.open_start AND %(in_end)s
                   AND NOT EXISTS (SELECT FROM busy b WHERE b.lead_id = s.lead_id)
            ),
            every_bar AS (
                SELECT b.lead_id, b.user_id, b.team_id, b.company_id, b.bar, b.moment,
                       b.weighted, b.expected, b.w_old, b.w_new, b.e_old, b.e_new,
                       b.old_probability, b.new_probability,
                       b.old_date_deadline, b.new_date_deadline
                  FROM bars b
                UNION ALL
                SELECT q.lead_id, q.user_id, q.team_id, q.company_id, k.bar, k.moment,
                       q.weighted, q.expected, q.weighted, q.weighted,
                       q.expected, q.expected, q.end_probability, q.end_probability,
                       q.end_date_deadline, q.end_date_deadline
                  FROM quiet q
                 CROSS JOIN (VALUES ('start', %(start)s::timestamp),
                                    ('end', %(end)s::timestamp)) k(bar, moment)
            )
            SELECT row_number() OVER (ORDER BY b.lead_id, b.moment, b.bar) AS id,
                   b.lead_id, b.user_id, b.team_id, b.company_id,
                   (SELECT currency_id FROM target) AS currency_id,
                   b.bar, b.moment AS date,
                   b.weighted AS weighted_amount, b.expected AS expected_amount,
                   abs(b.weighted) AS weighted_impact,
                   b.w_old AS weighted_before, b.w_new AS weighted_after,
                   b.e_old AS expected_before, b.e_new AS expected_after,
                   b.old_probability AS probability_before,
                   b.new_probability AS probability_after,
                   b.old_date_deadline AS date_deadline_before,
                   b.new_date_deadline AS date_deadline_after
              FROM every_bar b
            """,
            rates=sql.currency_rates_sql(self.env),
            candidates=candidates,
            ends=ends,
            start=start,
            end=end,
            open=sql.history_open_sql("h", "s"),
            expected_old=self._expected_sql(SQL("m.old_expected_revenue")),
            expected_new=self._expected_sql(SQL("m.new_expected_revenue")),
            weighted_old=self._weighted_sql(
                SQL("m.old_expected_revenue"), SQL("m.old_probability")
            ),
            weighted_new=self._weighted_sql(
                SQL("m.new_expected_revenue"), SQL("m.new_probability")
            ),
            weighted_mid=self._weighted_sql(
                SQL("m.new_expected_revenue"), SQL("m.old_probability")
            ),
            expected_end=self._expected_sql(SQL("l.end_expected_revenue")),
            weighted_end=self._weighted_sql(
                SQL("l.end_expected_revenue"), SQL("l.end_probability")
            ),
            in_end=in_scope(SQL("l.end_date_deadline")),
            in_old=in_scope(SQL("m.old_date_deadline")),
            in_new=in_scope(SQL("m.new_date_deadline")),
            # over the opportunity's moments (w): its open states, its
            # changes and their old values, in their order; up to a moment
            # (o): the changes at or before it (until), before it (before)
            open_last=SQL(
                "(array_agg(m.open_last) FILTER (WHERE m.open_last IS NOT NULL) OVER w)"
            ),
            changes=SQL("count(*) FILTER (WHERE m.changed) OVER w"),
            changes_until=SQL("(count(*) FILTER (WHERE m.changed) OVER o)"),
            changes_before=SQL(
                "(count(*) FILTER (WHERE m.changed) OVER o"
                " - CASE WHEN m.changed THEN 1 ELSE 0 END)"
            ),
            deadline=SQL(
                "(array_agg(m.old_date_deadline) FILTER (WHERE m.changed) OVER w)"
            ),
            revenue=SQL(
                "(array_agg(m.old_expected_revenue) FILTER (WHERE m.changed) OVER w)"
            ),
            probability=SQL(
                "(array_agg(m.old_probability) FILTER (WHERE m.changed) OVER w)"
            ),
            later=later,
            slipped=sql.slipped_sql("v"),
            expected_bars=self._bar_amounts_sql(
                SQL("v.e_new"), SQL("v.e_old"), SQL("v.e_new - v.e_old"), SQL("0")
            ),
            weighted_bars=self._bar_amounts_sql(
                SQL("v.w_new"),
                SQL("v.w_old"),
                SQL("v.w_mid - v.w_old"),
                SQL("v.w_new - v.w_mid"),
            ),
        )

    @api.model
    def _bar_amounts_sql(self, new, old, stayed, probability_part):
        """SQL: what each of the four bars of a moment ``v`` adds (read in
        step with their names, see ``bars``), in one kind of value: the
        start's and the end's ``new``; in the period, an opening adds
        ``new``, a closing takes ``old`` away, one that stayed adds
        ``stayed`` (the revenue's part); then the probability's part."""
        return SQL(
            """unnest(ARRAY[%(new)s, %(new)s,
                            CASE WHEN NOT v.in_old THEN %(new)s
                                 WHEN NOT v.in_new THEN -%(old)s
                                 ELSE %(stayed)s END,
                            %(probability_part)s])""",
            new=new,
            old=old,
            stayed=stayed,
            probability_part=probability_part,
        )

    @api.model
    def _expected_sql(self, revenue):
        """SQL: the expected revenue ``revenue`` of the opportunity aliased
        ``l`` in the current company's currency, to the grosz."""
        return SQL("round(COALESCE(%s, 0) * l.rate, 2)", revenue)

    @api.model
    def _weighted_sql(self, revenue, probability):
        """SQL: the weighted value of the opportunity aliased ``l`` at
        ``revenue`` and ``probability``, in the current company's currency,
        to the grosz: crm's own (stored) when they are its current ones, so
        that the end is what "Open Opportunities by Stage" sums, else
        computed as crm does (rounded to the grosz)."""
        return SQL(
            """round(CASE WHEN %(revenue)s IS NOT DISTINCT FROM l.expected_revenue
                           AND %(probability)s IS NOT DISTINCT FROM l.probability
                          THEN COALESCE(l.prorated_revenue, 0)
                          ELSE round((COALESCE(%(revenue)s, 0)
                                      * COALESCE(%(probability)s, 0) / 100.0)::numeric,
                                     2) END * l.rate, 2)""",
            revenue=revenue,
            probability=probability,
        )

    # ------------------------------------------------------------
    # GROUPED READS: the bars in their order
    # ------------------------------------------------------------

    @api.model
    def _read_group(self, *args, **kwargs):
        # past PostgreSQL's JIT threshold from about 100,000 opportunities
        jit_off(self.env.cr)
        return super()._read_group(*args, **kwargs)

    @api.model
    def search_fetch(self, *args, **kwargs):
        # past PostgreSQL's JIT threshold from about 100,000 opportunities
        jit_off(self.env.cr)
        return super().search_fetch(*args, **kwargs)

    def _read_group_orderby(self, order, groupby_terms, query):
        """Bars in the waterfall's order (their keys' order is no order)."""
        if "bar" not in groupby_terms:
            return super()._read_group_orderby(order, groupby_terms, query)
        bar = SQL(
            "array_position(%s::varchar[], %s::varchar)",
            BAR_KEYS,
            groupby_terms["bar"],
        )
        rest = super()._read_group_orderby(order, groupby_terms, query)
        return SQL(", ").join(term for term in (bar, rest) if term)
