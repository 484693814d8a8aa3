from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import compat
from ..models.crm_stage import stage_order_sql
from . import sql

READINGS = ("cohort", "now")
PERIODS = ("month", "quarter", "year", "last_12_months", "custom")


class SalesFunnelBoard(models.AbstractModel):
    """The funnel board ("Lejek sprzedaży"): the data of the client action
    ``sales_funnel_pl.funnel_board``, read in two statements whatever the
    number of stages and opportunities (the bands, with their stages' names,
    and the headline figures).

    Two readings:

    - ``cohort``: the opportunities whose sales process started in the
      period (lost and won ones included), and how far each got. An
      opportunity *reached* an active stage of its team's funnel when its
      stage history holds an entry into that stage or into a later active
      stage (in crm's stage order: sequence, name, id; kept on the
      opportunity as its furthest stage, ``stage_reached_id``): a skipped stage
      counts as passed, so the funnel narrows from band to band and
      conversion never exceeds 100%. An
      archived stage is shown, in its place, when opportunities of the
      cohort entered it (it was active then); it counts those entries only
      and has no conversion (nor is it the "previous band" of the next one).
      Conversion is the share of the previous band's opportunities that
      reached this one; on every team's funnel (no team chosen) a team's own
      stage is measured against the previous band of its team or of every
      team, a stage of every team against the previous stage of every team.
    - ``now``: the open opportunities per current stage (the won stages,
      where no opportunity is open, are left out).

    Opportunities are those the user may read (crm's record rules, through
    ``_search``): each band and headline figure comes with the domain on
    ``crm.lead`` that lists exactly the opportunities it counts (the target:
    the domain of the target rows of "Prognoza a wykonanie" it sums). Amounts
    are in the current company's currency, converted as the forecast does."""

    _name = "sales.funnel.board"
    _description = "Sales Funnel Board"

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_board_filters(self):
        """The sales teams and salespeople the board's filters offer, and the
        views that open the opportunities of a band or figure.

        Salespeople: those of the companies the user works in. A salesperson
        who sees only their own opportunities (and the unassigned ones, as
        crm's record rule lets them) is offered themselves alone
        (``own_only``): any other salesperson's funnel would be empty to
        them. Teams: every team the user may read, for everyone: an
        opportunity may sit in a team its salesperson is no member of, and
        the board counts the user's own opportunities in it.

        Public (the web client calls it through JSON-RPC): every value can
        be sent through XML-RPC too (no None). A read: marked
        ``@api.readonly``, the call goes to the read replica when Odoo has
        one (``--db_replica_host``)."""
        self.env["crm.lead"].check_access("read")
        own_only = self._board_own_only()
        teams = self.env["crm.team"].search_read([], ["name"], order="sequence, name")
        return {
            "teams": teams,
            "users": self._board_users(own_only),
            "own_only": own_only,
            # the opportunities' own list, kanban and search views, as crm opens them
            "views": {
                "list": self.env.ref("crm.crm_case_tree_view_oppor").id,
                "kanban": self.env.ref("crm.crm_case_kanban_view_leads").id,
                "search": self.env.ref("crm.view_crm_case_opportunities_filter").id,
                # the target rows of "Prognoza a wykonanie" the target sums
                "target_list": self.env.ref(
                    "sales_funnel_pl.sales_funnel_forecast_won_report_view_list_target"
                ).id,
                "target_search": self.env.ref(
                    "sales_funnel_pl.sales_funnel_forecast_won_report_view_search"
                ).id,
            },
        }

    @api.model
    @api.readonly
    def get_board_data(
        self,
        reading="cohort",
        period="month",
        date_from=None,
        date_to=None,
        team_id=False,
        user_id=False,
    ):
        """The bands and headline figures of the funnel board (see the class).

        Public (the web client calls it through JSON-RPC): a figure that
        cannot be computed (a conversion from an empty band, a win rate or a
        cycle without a closed sale, a target where none is set) is False,
        not None, so that XML-RPC can send it too. A read: marked
        ``@api.readonly``, the call goes to the read replica when Odoo has
        one (``--db_replica_host``); it writes nothing there (see
        ``_board_bands``)."""
        if reading not in READINGS:
            raise UserError(
                self.env._("Unknown funnel reading: %(reading)s.", reading=reading)
            )
        date_from, date_to = self._board_period(period, date_from, date_to)
        team_id = self._board_id(team_id)
        user_id = self._board_id(user_id)
        base = [("type", "=", "opportunity")]
        if team_id:
            base.append(("team_id", "=", team_id))
        if user_id:
            base.append(("user_id", "=", user_id))
        return {
            "reading": reading,
            "period": period,
            "date_from": fields.Date.to_string(date_from),
            "date_to": fields.Date.to_string(date_to),
            "team_id": team_id,
            "user_id": user_id,
            "currency_id": self.env.company.currency_id.id,
            "bands": self._board_bands(reading, base, date_from, date_to, team_id),
            "headline": self._board_headline(
                base, date_from, date_to, team_id, user_id
            ),
        }

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _board_id(self, value):
        if value in (False, None, ""):
            return False
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(
                self.env._(
                    "A sales team or salesperson is given by its id, not %(value)s.",
                    value=repr(value),
                )
            )
        return value

    @api.model
    def _board_own_only(self):
        """Whether the user sees only their own opportunities (crm's
        "Personal Leads" rule: no "All Documents" right)."""
        return not self.env.user.has_group("sales_team.group_sale_salesman_all_leads")

    @api.model
    def _board_users(self, own_only):
        """The salespeople the board's filter offers (id, name)."""
        domain = [
            ("share", "=", False),
            (
                compat.USER_ALL_GROUPS_FIELD,
                "in",
                self.env.ref("sales_team.group_sale_salesman").ids,
            ),
            ("company_ids", "in", self.env.companies.ids),
        ]
        if own_only:
            domain.append(("id", "=", self.env.uid))
        return self.env["res.users"].search_read(domain, ["name"], order="name")

    @api.model
    def _board_period(self, period, date_from, date_to):
        """(first day, last day) of the period, in the user's days."""
        if period not in PERIODS:
            raise UserError(self.env._("Unknown period: %(period)s.", period=period))
        today = fields.Date.context_today(self)
        if period == "month":
            start = today.replace(day=1)
            return start, start + relativedelta(months=1, days=-1)
        if period == "quarter":
            start = today.replace(day=1, month=(today.month - 1) // 3 * 3 + 1)
            return start, start + relativedelta(months=3, days=-1)
        if period == "year":
            return today.replace(month=1, day=1), today.replace(month=12, day=31)
        if period == "last_12_months":
            end = today.replace(day=1) + relativedelta(months=1, days=-1)
            return today.replace(day=1) - relativedelta(months=11), end
        try:
            date_from = fields.Date.to_date(date_from)
            date_to = fields.Date.to_date(date_to)
        except (TypeError, ValueError):
            date_from = date_to = None
        if not date_from or not date_to:
            raise UserError(
                self.env._("A custom period needs a start and an end date.")
            )
        if date_from > date_to:
            raise UserError(self.env._("The period cannot end before it starts."))
        return date_from, date_to

    @api.model
    def _board_leads_sql(self, domain):
        """SELECT of the opportunities of ``domain`` the user may read (id,
        stage, team, next action date, process dates, won, lost, open and
        amounts in the current company's currency), for a CTE."""
        Lead = self.env["crm.lead"].with_context(active_test=False)
        query = Lead._search(domain)
        lead = query.table
        won = sql.won_sql(lead, "board_stage")
        query.add_join(
            "LEFT JOIN",
            "board_stage",
            "crm_stage",
            SQL("board_stage.id = %s", SQL.identifier(lead, "stage_id")),
        )
        query.add_join(
            "LEFT JOIN",
            "board_rate",
            "rates",
            SQL("board_rate.company_id = %s", sql.lead_company_sql(self.env, lead)),
        )

        def column(name):
            return SQL.identifier(lead, name)

        rate = SQL("COALESCE(board_rate.rate, 1.0)")
        return query.select(
            SQL("%s AS id", column("id")),
            SQL("%s AS stage_id", column("stage_id")),
            SQL("%s AS team_id", column("team_id")),
            SQL("%s AS stage_reached_id", column("stage_reached_id")),
            SQL("%s AS next_action_date", column("next_action_date")),
            SQL("%s AS date_process_start", column("date_process_start")),
            SQL("%s AS date_process_end", column("date_process_end")),
            SQL("%s AS is_won", won),
            SQL("COALESCE(%s, false) AS is_lost", compat.lead_lost_sql(lead)),
            SQL("(%s AND NOT %s) AS is_open", column("active"), won),
            SQL("COALESCE(%s, 0) * %s AS expected", column("expected_revenue"), rate),
            SQL("COALESCE(%s, 0) * %s AS prorated", column("prorated_revenue"), rate),
        )

    @api.model
    def _board_bands(self, reading, base, date_from, date_to, team_id):
        """The bands, in stage order: one query."""
        if reading == "cohort":
            population = base + [
                ("active", "in", [True, False]),
                ("date_process_start", ">=", date_from),
                ("date_process_start", "<=", date_to),
            ]
            # how far each got: the rank of its furthest stage, stored on it
            # (``stage_reached_id``); an archived stage counts those of the
            # cohort who entered it, from the history rows of archived
            # stages only, apart (no opportunity is grouped by them)
            reach = SQL("rk.rank")
            in_band = SQL(
                "s.active AND x.reach >= sr.rank AND %s",
                compat.stage_of_team_sql("s", SQL("x.team_id")),
            )
            # (the archived stages' ids written in, so that PostgreSQL plans
            # with what their history holds: few rows, or none)
            archived_ids = (
                self.env["crm.stage"]
                .with_context(active_test=False)
                .search([("active", "=", False)])
                .ids
            )
            archived = SQL(
                """SELECT e.stage_id, count(*) AS n, sum(l.expected) AS expected,
                          sum(l.prorated) AS prorated
                     FROM (SELECT DISTINCT lead_id, stage_id
                             FROM crm_lead_stage_history
                            WHERE stage_id = ANY(%s)) e
                     JOIN leads l ON l.id = e.lead_id
                    GROUP BY e.stage_id""",
                archived_ids,
            )
            stages = SQL("TRUE")
        else:
            population = base + compat.open_lead_domain()
            reach = SQL("NULL::bigint")
            in_band = SQL("x.stage_id = s.id")
            archived = SQL(
                "SELECT NULL::int AS stage_id, 0 AS n, 0 AS expected, 0 AS prorated "
                "WHERE FALSE"
            )
            stages = SQL("s.is_won IS NOT TRUE")
        of_team = (
            compat.stage_of_team_sql("s", SQL("%s", team_id))
            if team_id
            else SQL("TRUE")
        )
        # a change of the stages' order waiting for the commit is applied
        # first (see crm.lead._stage_reached_refresh_later): only in the
        # transaction that changed it; a request of its own (the web client's,
        # on the read replica's read-only cursor) has nothing waiting, and
        # the flushes nothing to write
        self.env["crm.lead"]._stage_reached_refresh_pending()
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        lang = self.env.lang or "en_US"
        # the opportunities grouped first (a few rows per stage and team),
        # then matched with the bands
        self.env.cr.execute(
            SQL(
                """
            WITH %(rates)s,
            -- not materialized: planned with crm_lead's statistics, which
            -- tell how few groups there are
            leads AS NOT MATERIALIZED (%(leads)s),
            ranks AS (SELECT s.id, s.active,
                             row_number() OVER (ORDER BY %(stage_order)s) AS rank
                        FROM crm_stage s),
            grouped AS (
                SELECT g.*, %(reach)s AS reach
                  FROM (SELECT l.stage_id, l.team_id, l.stage_reached_id,
                               count(*) AS n, sum(l.expected) AS expected,
                               sum(l.prorated) AS prorated
                          FROM leads l
                         GROUP BY 1, 2, 3) g
                  LEFT JOIN ranks rk ON rk.id = g.stage_reached_id
            ),
            archived AS (%(archived)s)
            SELECT s.id, COALESCE(s.name->>%(lang)s, s.name->>'en_US'),
                   s.sequence, s.active,
                   COALESCE(sum(x.n), max(a.n), 0)::int,
                   COALESCE(sum(x.expected), max(a.expected), 0),
                   COALESCE(sum(x.prorated), max(a.prorated), 0),
                   max(sr.rank),
                   -- every stage in crm's order, for the bands' domains
                   (SELECT array_agg(r.id ORDER BY r.rank) FROM ranks r)
              FROM crm_stage s
              JOIN ranks sr ON sr.id = s.id
              LEFT JOIN grouped x ON %(in_band)s
              LEFT JOIN archived a ON a.stage_id = s.id
             WHERE (s.active AND %(stages)s AND %(of_team)s) OR a.stage_id IS NOT NULL
             GROUP BY s.id
             ORDER BY %(stage_order)s
            """,
                stage_order=stage_order_sql("s"),
                rates=sql.currency_rates_sql(self.env),
                leads=self._board_leads_sql(population),
                reach=reach,
                archived=archived,
                lang=lang,
                in_band=in_band,
                stages=stages,
                of_team=of_team,
            )
        )
        rows = self.env.cr.fetchall()
        currency = self.env.company.currency_id
        stages = (
            self.env["crm.stage"]
            .with_context(active_test=False)
            .browse([row[0] for row in rows])
        )
        bands = []
        # count of the previous band, per set of teams it belongs to
        previous = {}
        for stage, row in zip(stages, rows, strict=True):
            stage_id, name, _sequence, active, count, expected, prorated = row[:7]
            rank, ordered_ids = row[7:]
            if reading == "now":
                domain = population + [("stage_id", "=", stage_id)]
            elif active:
                # the rule of the SQL's band: the furthest stage ranks at or
                # after the band's in crm's stage order, in a stage of its team
                domain = (
                    population
                    + compat.lead_of_stage_team_domain(stage)
                    + [("stage_reached_id", "in", ordered_ids[rank - 1 :])]
                )
            else:
                domain = population + [
                    ("stage_history_ids", "any", [("stage_id", "=", stage_id)]),
                ]
            conversion = False
            if reading == "cohort" and active:
                # every team's funnel (no team chosen): a team's own stage
                # follows the previous band of its team or of every team, a
                # stage of every team the previous one of every team
                teams = frozenset() if team_id else compat.stage_team_ids(stage)
                before = [
                    (band_teams, band_count)
                    for band_teams, band_count in previous.items()
                    if not band_teams or (teams and band_teams >= teams)
                ]
                if before and before[-1][1]:
                    conversion = round(100.0 * count / before[-1][1], 1)
                previous.pop(teams, None)
                previous[teams] = count
            bands.append(
                {
                    "stage_id": stage_id,
                    "name": name,
                    "archived": not active,
                    "count": count,
                    "expected_revenue": currency.round(float(expected)),
                    "prorated_revenue": currency.round(float(prorated)),
                    "conversion": conversion,
                    "domain": domain,
                }
            )
        return bands

    @api.model
    def _board_headline(self, base, date_from, date_to, team_id=False, user_id=False):
        """The headline figures, each with the domain of its opportunities
        (the target: of the target rows of "Prognoza a wykonanie" it sums):
        one query, and one of the stages' numbers of days for the stuck
        opportunities' domain."""
        today = fields.Date.context_today(self)
        targets, target_domain = self._board_targets_sql(
            date_from, date_to, team_id, user_id
        )
        closed = [
            ("date_process_end", ">=", date_from),
            ("date_process_end", "<=", date_to),
        ]
        stuck_domain = (
            base + compat.open_lead_domain() + [("funnel_is_stuck", "=", True)]
        )
        # The open opportunities and those whose process ended in the
        # period, each read by its own domain (the lists the figures open),
        # never every opportunity of ten years: indexes find both (the open
        # ones: crm_lead_funnel_open_idx; the ended ones: date_process_end).
        self.env.cr.execute(
            SQL(
                """
            WITH %(rates)s, open_leads AS (%(open)s), ended AS (%(ended)s),
            stuck AS (%(stuck)s), targets AS (%(targets)s)
            SELECT (SELECT amount FROM targets), (SELECT n FROM targets),
                   (SELECT due FROM targets), o.*, e.*, a.*, st.*
              FROM (SELECT count(*) FILTER (WHERE is_open),
                           COALESCE(sum(expected) FILTER (WHERE is_open), 0),
                           COALESCE(sum(prorated) FILTER (WHERE is_open), 0)
                      FROM open_leads) o(n, expected, prorated),
                   (SELECT count(*) FILTER (WHERE is_won),
                           COALESCE(sum(expected) FILTER (WHERE is_won), 0),
                           count(*) FILTER (WHERE is_lost),
                           avg(GREATEST(date_process_end - date_process_start, 1))
                               FILTER (WHERE is_won)
                      FROM ended) e(won, won_value, lost, cycle),
                   (SELECT count(*) FILTER (WHERE is_open
                                              AND next_action_date < %(today)s),
                           count(*) FILTER (WHERE is_open AND next_action_date IS NULL)
                      FROM open_leads) a(overdue, missing),
                   (SELECT count(*), COALESCE(sum(expected), 0)
                      FROM stuck) st(stuck, stuck_expected)
            """,
                rates=sql.currency_rates_sql(self.env),
                open=self._board_leads_sql(base + compat.open_lead_domain()),
                ended=self._board_leads_sql(
                    base + [("active", "in", [True, False])] + closed
                ),
                # the stuck ones: the open opportunities of the filter "Utknęła
                # w etapie" (crm.lead._funnel_stuck_domain), the list it opens
                stuck=self._board_leads_sql(stuck_domain),
                targets=targets,
                today=today,
            )
        )
        (
            target,
            target_count,
            target_due,
            open_count,
            open_expected,
            open_prorated,
            won_count,
            won_value,
            lost_count,
            cycle,
            overdue_count,
            missing_count,
            stuck_count,
            stuck_expected,
        ) = self.env.cr.fetchone()
        currency = self.env.company.currency_id
        open_domain = base + compat.open_lead_domain()
        won_domain = base + compat.won_lead_domain() + closed
        closed_domain = (
            base
            + closed
            + compat.domain_or([compat.won_lead_domain(), compat.lost_lead_domain()])
        )
        return {
            "open": {
                "count": open_count,
                "expected_revenue": currency.round(float(open_expected)),
                "prorated_revenue": currency.round(float(open_prorated)),
                "domain": open_domain,
            },
            "won": {
                "count": won_count,
                "value": currency.round(float(won_value)),
                "domain": won_domain,
            },
            "win_rate": {
                "value": (
                    round(100.0 * won_count / (won_count + lost_count), 1)
                    if won_count + lost_count
                    else False
                ),
                "won": won_count,
                "lost": lost_count,
                "domain": closed_domain,
            },
            "cycle_days": {
                "value": round(float(cycle), 1) if cycle is not None else False,
                "domain": won_domain,
            },
            "overdue": {
                "count": overdue_count,
                "domain": open_domain + [("next_action_date", "<", today)],
            },
            "no_action": {
                "count": missing_count,
                "domain": open_domain + [("next_action_date", "=", False)],
            },
            "stuck": {
                "count": stuck_count,
                "expected_revenue": currency.round(float(stuck_expected)),
                "domain": stuck_domain,
            },
            "target": {
                "value": (
                    currency.round(float(target)) if target is not None else False
                ),
                # the targets of the months where winning was possible (up
                # to and including the current one), as "Prognoza sprzedaży"
                # counts its attainment: months still to come do not dilute it
                "due": (
                    currency.round(float(target_due))
                    if target_due is not None
                    else False
                ),
                "attainment": (
                    round(100.0 * float(won_value) / float(target_due), 1)
                    if target_due
                    else False
                ),
                # what the figure opens: the rows it sums (their target_amount)
                "count": target_count,
                "model": "sales.funnel.forecast.won.report",
                "domain": target_domain,
            },
        }

    @api.model
    def _board_targets_sql(self, date_from, date_to, team_id, user_id):
        """(SQL of the sum (``amount``, in the current company's currency) and
        the number (``n``) of the rows of the sales targets of the period's
        months that the user may read; the domain of those rows). The rows
        are the target rows of "Prognoza a wykonanie"
        (``sales.funnel.forecast.won.report``, kind ``target``), and the sum
        (``due``) of those of the months where winning was possible, for
        the share won (``sql.month_due_sql``):
        a salesperson's target, and a team's own share (the team's target
        less its salespeople's), so that a team's rows add up to its target
        and no amount counts twice. The figure is their sum, read from the
        report itself: the list its domain opens adds up to it. A
        salesperson who sees only their own opportunities is measured
        against their own target."""
        domain = [
            ("kind", "=", "target"),
            ("date", ">=", date_from.replace(day=1)),
            ("date", "<=", date_to),
            ("company_id", "in", self.env.companies.ids),
        ]
        if team_id:
            domain.append(("team_id", "=", team_id))
        if user_id:
            domain.append(("user_id", "=", user_id))
        elif self._board_own_only():
            domain.append(("user_id", "=", self.env.uid))
        # the horizon chooses the forecast rows only: none for the targets
        Report = self.env["sales.funnel.forecast.won.report"].with_context(
            sales_funnel_horizon=0
        )
        query = Report._search(domain)
        return (
            query.select(
                SQL("sum(%s) AS amount", SQL.identifier(query.table, "target_amount")),
                SQL("count(*) AS n"),
                SQL(
                    "sum(%s) FILTER (WHERE %s) AS due",
                    SQL.identifier(query.table, "target_amount"),
                    sql.month_due_sql(
                        SQL.identifier(query.table, "date"),
                        fields.Date.context_today(self),
                    ),
                ),
            ),
            domain,
        )
