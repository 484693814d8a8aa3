# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.models import regex_order
from odoo.tools import SQL

from .. import compat
from ..utils import JIT_OFF, percent_sql
from . import sales_funnel_stage_rollup as rollup
from . import sql
from .sql import days_in_stage_sql, entry_sql, report_entry_sql

# the measures counting opportunities, not rows: an opportunity that entered
# a stage three times is one opportunity that reached it
OPPORTUNITY_MEASURES = ("opportunity_count", "won_count")

# the measures the rollup answers (the pivot's and the graph's)
ROLLUP_AGGREGATES = {
    "__count",
    "entered_count:sum",
    "opportunity_count:sum",
    "won_count:sum",
    "skipped_count:sum",
    "moved_on_count:sum",
    "lost_count:sum",
    "conversion:avg",
    "duration_days:avg",
    "median_days:median",
}


class SalesFunnelStageReport(models.Model):
    """Stage analytics from the stage history: one row each time an
    opportunity entered a stage, and one row for each stage it skipped on
    the way to a later one (recorded on the history row when it moved).
    Pivot and graph read it in one query.

    Entries, skips, moves on and losses count rows (events); opportunities,
    won ones and the conversion count each opportunity of a group once,
    however many times it entered its stages."""

    _name = "sales.funnel.stage.report"
    _description = "Sales Funnel Stage Analysis"
    _auto = False
    _rec_name = "stage_id"
    _order = "date_enter desc"
    # what the statement reads: pending changes are written before a read
    _depends = {
        "crm.lead.stage.history": [
            "change_type",
            "date_enter",
            "date_leave",
            "date_stage",
            "duration_days",
            "lead_id",
            "left_change",
            "moved_on",
            "report_company_id",
            "salesperson_id",
            "stage_id",
            "team_id",
        ],
        "crm.lead": [
            "active",
            "date_process_start",
            "stage_id",
            *compat.LEAD_WON_COLUMNS,
        ],
        "crm.stage": ["is_won"],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    date_enter = fields.Datetime(string="Entered", readonly=True)
    entered_count = fields.Integer(string="Entries", readonly=True, aggregator="sum")
    opportunity_count = fields.Integer(
        string="Opportunities",
        readonly=True,
        aggregator="sum",
        help="Opportunities that entered the stage, each counted once however "
        "many times it entered it.",
    )
    skipped_count = fields.Integer(string="Skipped", readonly=True, aggregator="sum")
    moved_on_count = fields.Integer(
        string="Moved On",
        readonly=True,
        aggregator="sum",
        help="Entries followed by a move to a later stage (as the funnel stood then).",
    )
    lost_count = fields.Integer(
        string="Lost Here",
        readonly=True,
        aggregator="sum",
        help="Entries after which the opportunity was lost in this stage.",
    )
    won_count = fields.Integer(
        string="Won Eventually",
        readonly=True,
        aggregator="sum",
        help="Opportunities that entered the stage and are won today, each "
        "counted once.",
    )
    conversion = fields.Float(
        string="Conversion to Won (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the opportunities that entered the stage and were won "
        "(won opportunities in % of opportunities, each counted once).",
    )
    duration_days = fields.Float(
        string="Average Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Days spent in the stage, for the entries that left it.",
    )
    median_days = fields.Float(
        string="Median Days in Stage",
        readonly=True,
        aggregator="median",
    )
    days_to_win = fields.Float(
        string="Days to Win",
        readonly=True,
        aggregator="avg",
        help="Days from the start of the sales process to the stage date of "
        "the win (velocity), once per won opportunity.",
    )

    def _opportunities_sql(self, query, fname):
        """SQL: the number of opportunities among a grouped read's rows whose
        ``fname`` is 1, each counted once."""
        return SQL(
            "COUNT(DISTINCT %s) FILTER (WHERE %s = 1)",
            self._field_to_sql(self._table, "lead_id", query),
            self._field_to_sql(self._table, fname, query),
        )

    def _read_group_select(self, aggregate_spec, query):
        fname, _sep, aggregator = aggregate_spec.partition(":")
        if fname in OPPORTUNITY_MEASURES and aggregator == "sum":
            return self._opportunities_sql(query, fname)
        # won opportunities in % of opportunities, not an average of rows
        if aggregate_spec == "conversion:avg":
            return percent_sql(
                SQL("%s::float", self._opportunities_sql(query, "won_count")),
                self._opportunities_sql(query, "opportunity_count"),
            )
        # PostgreSQL's median, which Odoo's aggregates do not offer
        if aggregate_spec.endswith(":median"):
            fname = aggregate_spec.split(":")[0]
            return SQL(
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s)",
                self._field_to_sql(self._table, fname, query),
            )
        return super()._read_group_select(aggregate_spec, query)

    def _read_group_orderby(self, order, groupby_terms, query):
        """Order stage groups by the stage's sequence looked up once per
        group. Odoo's own ordering by a many2one joins ``crm_stage`` to every
        row and groups by its sequence and name too, which makes PostgreSQL
        sort a million rows on four keys (0.6 s more on the benchmark)."""
        if not order or "stage_id" not in groupby_terms:
            return super()._read_group_orderby(order, groupby_terms, query)
        terms = []
        for part in order.split(","):
            match = regex_order.match(part)
            if match and match["term"] == "stage_id":
                direction = (
                    SQL("DESC")
                    if (match["direction"] or "").upper() == "DESC"
                    else SQL("ASC")
                )
                stage = groupby_terms["stage_id"]
                terms.append(
                    SQL(
                        "(SELECT s.sequence FROM crm_stage s WHERE s.id = %s) %s,"
                        " %s %s",
                        stage,
                        direction,
                        stage,
                        direction,
                    )
                )
            else:
                terms.append(super()._read_group_orderby(part, groupby_terms, query))
        return SQL(", ").join(term for term in terms if term)

    @property
    def _table_query(self):
        # No CTE and no window function: PostgreSQL then flattens the UNION
        # and computes only the columns a read asks for. Entries keep their
        # history row's id, skipped stages get their own, negative.
        return SQL(
            """
            SELECT h.id, h.lead_id, h.stage_id, h.team_id,
                   h.salesperson_id AS user_id, h.report_company_id AS company_id,
                   h.date_enter,
                   1 AS entered_count, 1 AS opportunity_count, 0 AS skipped_count,
                   CASE WHEN h.moved_on THEN 1 ELSE 0 END AS moved_on_count,
                   CASE WHEN h.left_change = 'lost' THEN 1 ELSE 0 END AS lost_count,
                   CASE WHEN w.id IS NOT NULL THEN 1 ELSE 0 END AS won_count,
                   CASE WHEN w.id IS NOT NULL THEN 100.0 ELSE 0.0 END AS conversion,
                   %(days)s AS duration_days,
                   %(days)s AS median_days,
                   -- the win that stands (its row still open), not an
                   -- earlier one the opportunity was reopened from
                   CASE WHEN s.is_won AND h.date_leave IS NULL
                        THEN h.date_stage - w.date_process_start END AS days_to_win
              FROM crm_lead_stage_history h
              JOIN crm_stage s ON s.id = h.stage_id
              LEFT JOIN (
                    SELECT l.id, l.date_process_start
                      FROM crm_lead l
                      JOIN crm_stage ws ON ws.id = l.stage_id
                     WHERE %(won)s
                   ) w ON w.id = h.lead_id
             WHERE %(entry)s
            UNION ALL
            SELECT -k.id, k.lead_id, k.stage_id, k.team_id, k.salesperson_id,
                   k.report_company_id, k.date_enter, 0, 0, 1, 0, 0, 0,
                   NULL, NULL, NULL, NULL
              FROM crm_lead_stage_history_skip k
            """,
            won=sql.won_sql("l", "ws"),
            days=days_in_stage_sql("h"),
            entry=entry_sql("h"),
        )

    # ------------------------------------------------------------
    # READING FROM THE ROLLUP (report/sales_funnel_stage_rollup.py): the
    # screen's reads (a period up to today, stages, companies; the stages
    # or the total) from the sums, any other from the rows above
    # ------------------------------------------------------------

    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        if not (having or offset or limit):
            result = self._read_group_rollup(domain, [groupby], aggregates, order)
            if result is not None:
                return result[0]
        return super()._read_group(
            domain, groupby, aggregates, having, offset, limit, order
        )

    def _read_grouping_sets(self, domain, grouping_sets, aggregates=(), order=None):
        # 19.0's pivot: the total and the rows in one call
        result = self._read_group_rollup(domain, grouping_sets, aggregates, order)
        if result is not None:
            return result
        return super()._read_grouping_sets(domain, grouping_sets, aggregates, order)

    def _rollup_filters(self, domain):
        """What the rollup needs of ``domain`` and the user's record rules:
        {"after": (operator, moment) or None, "stages": an SQL subquery of
        the stages or None, "companies": ([ids], empty allowed) or None}, or
        None when a condition is not one the sums can answer exactly."""
        conditions = compat.domain_conditions(
            compat.domain_and(
                [
                    list(domain or []),
                    []
                    if self.env.su
                    else list(self.env["ir.rule"]._compute_domain(self._name, "read")),
                ]
            )
        )
        if conditions is None:
            return None
        after, stage_domain, companies = None, [], None
        for fname, operator, value in conditions:
            if fname == "date_enter" and operator in (">=", ">") and value:
                moment = fields.Datetime.to_datetime(value)
                if after is None or (moment, operator == ">") > (
                    after[1],
                    after[0] == ">",
                ):
                    after = (operator, moment)
            elif fname.startswith("stage_id."):
                stage_domain.append((fname.removeprefix("stage_id."), operator, value))
            elif fname in ("stage_id", "company_id") and operator in ("in", "="):
                values = value if isinstance(value, list | tuple) else [value]
                if not all(v is False or isinstance(v, int) for v in values):
                    return None
                if fname == "stage_id":
                    stage_domain.append(("id", "in", [v for v in values if v]))
                else:
                    ids = {v for v in values if v}
                    empty = False in values
                    if companies is not None:
                        ids &= set(companies[0])
                        empty = empty and companies[1]
                    companies = (sorted(ids), empty)
            else:
                return None
        stages = None
        if stage_domain:
            stages = (
                self.env["crm.stage"]
                .sudo()
                .with_context(active_test=False)
                ._search(stage_domain)
                .subselect()
            )
        return {"after": after, "stages": stages, "companies": companies}

    def _read_group_rollup(self, domain, grouping_sets, aggregates, order):
        """``_read_group``'s rows (one list per grouping set) read from the
        rollup, or None when the read is not one it answers exactly (see
        the rollup module). The values are PostgreSQL's, as the rows'
        statement computes them: sums, counts of opportunities, the
        average and the median of the days, the conversion."""
        if self.env.context.get("sales_funnel_stage_rows"):
            return None
        if any(tuple(groupby) not in ((), ("stage_id",)) for groupby in grouping_sets):
            return None
        if not set(aggregates) <= ROLLUP_AGGREGATES:
            return None
        descending = False
        if order:
            match = regex_order.match(order.strip())
            if not match or match["term"] != "stage_id":
                return None
            descending = (match["direction"] or "").upper() == "DESC"
        self.browse().check_access("read")
        filters = self._rollup_filters(domain)
        if filters is None:
            return None
        groups, total = self._rollup_sums(filters)
        # in the order Odoo's grouped read gives: by id without an order,
        # else by the stages' sequence (``_read_group_orderby``)
        ordered = sorted(groups) if not order else list(groups)
        if descending:
            ordered.reverse()
        stages = self.env["crm.stage"].browse(ordered)
        result = []
        for groupby in grouping_sets:
            if groupby:
                values = [
                    self._rollup_values(groups[stage.id], aggregates, True)
                    for stage in stages
                ]
            else:
                values = [self._rollup_values(total, aggregates, False)]
            # NULLs as Odoo's own grouped read gives them
            columns = [
                list(self._read_group_postprocess_aggregate(spec, column))
                for spec, column in zip(
                    aggregates, zip(*values, strict=False), strict=False
                )
            ]
            rows = list(zip(*columns, strict=False)) if columns else [()] * len(values)
            result.append(
                [(stage, *row) for stage, row in zip(stages, rows, strict=False)]
                if groupby
                else [tuple(row) for row in rows]
            )
        return result

    def _rollup_sums(self, filters):
        """The sums of the stages ({stage id: sums}, in the stages' order)
        and of the total for ``filters``, read in one query: the rollup's
        whole months, the rows of a month begun, and the total's
        correction (see ``_rollup_values``)."""
        after, stages, companies = (
            filters["after"],
            filters["stages"],
            filters["companies"],
        )

        def where(alias, moment=True, in_stages=True):
            terms = []
            if in_stages and stages is not None:
                terms.append(SQL("%s IN %s", SQL.identifier(alias, "stage_id"), stages))
            if companies is not None:
                column = SQL.identifier(
                    alias, "company_id" if alias == "r" else "report_company_id"
                )
                terms.append(
                    SQL(
                        "(%s = ANY(%s) OR (%s AND %s IS NULL))",
                        column,
                        companies[0],
                        companies[1],
                        column,
                    )
                )
            if after and moment:
                terms.append(
                    SQL(
                        "%s %s %s",
                        SQL.identifier(alias, "date_enter"),
                        SQL(after[0]),
                        after[1],
                    )
                )
            return SQL(" AND ").join(terms) if terms else SQL("TRUE")

        measures = SQL(", ").join(SQL.identifier(m) for m in rollup.MEASURES)
        months = SQL("TRUE")
        parts = []
        if after:
            # the whole months from the rollup, the rows of the month the
            # period starts in from the history
            operator, moment = after
            start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            if start < moment or operator == ">":
                start += relativedelta(months=1)
            months = SQL("r.month >= %s", start)
            parts.append(
                SQL(
                    "SELECT stage_id, days, %s FROM (%s) e",
                    measures,
                    rollup.contributions_sql(
                        SQL("crm_lead_stage_history"),
                        SQL("crm_lead_stage_history_skip"),
                        SQL("%s AND h.date_enter < %s", where("h"), start),
                        SQL("%s AND k.date_enter < %s", where("k"), start),
                    ),
                )
            )
        parts.insert(
            0,
            SQL(
                "SELECT stage_id, days, %s FROM sales_funnel_stage_rollup r"
                " WHERE %s AND %s",
                measures,
                months,
                where("r", moment=False),
            ),
        )
        sums = SQL(", ").join(
            SQL("SUM(%s) AS %s", SQL.identifier(m), SQL.identifier(m))
            for m in rollup.MEASURES
        )
        zeros = SQL(", ").join(SQL("0") for _m in rollup.MEASURES[:3])
        # the total counts an opportunity once: through its last entry,
        # and, when the stages are filtered, through an earlier entry into
        # a stage of the filter when its last one is into another stage
        correction = SQL()
        if stages is not None:
            correction = SQL(
                """
                UNION ALL
                SELECT 'correction', NULL, NULL, NULL, %(zeros)s,
                       count(*), count(*) FILTER (WHERE h.lead_won), 0, 0, 0, NULL
                  FROM crm_stage xs
                  -- the last entries into each stage the filter leaves out
                  -- (the index of last entries, stage by stage: none read
                  -- when the filter leaves none out, as the screen opens),
                  -- each with one probe of its opportunity's rows (joined,
                  -- every entry of the period was hashed: 0.5 s at a
                  -- million)
                 CROSS JOIN LATERAL (
                       SELECT h.lead_id, h.lead_won
                         FROM crm_lead_stage_history h
                        WHERE h.entry_last AND h.stage_id = xs.id AND %(where)s
                       OFFSET 0) h
                 WHERE xs.id NOT IN %(stages)s
                   AND COALESCE((
                       SELECT true FROM crm_lead_stage_history e
                        WHERE e.lead_id = h.lead_id AND %(entry)s AND %(in_stages)s
                        LIMIT 1), false)
                """,
                zeros=zeros,
                stages=stages,
                where=where("h", in_stages=False),
                entry=report_entry_sql("e"),
                in_stages=where("e"),
            )
        self.env["crm.lead.stage.history"].flush_model()
        self.env["crm.lead.stage.history.skip"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                -- a few thousand sums and a month of rows, estimated past
                -- PostgreSQL's JIT threshold at a million (the rows of the
                -- stages a filter leaves out, read only when there are
                -- some): compiled for 1 s, run in 0.05 s. Off for the
                -- rest of the read's transaction (as utils.jit_off), in
                -- the same query.
                %(jit_off)s;
                WITH x AS (
                    SELECT stage_id, days, %(sums)s
                      FROM (%(parts)s) u
                     GROUP BY stage_id, days
                )
                SELECT * FROM (
                    -- per stage and for the total: the sums and the average
                    -- days as PostgreSQL's AVG gives it (the same numeric
                    -- division)
                    SELECT CASE WHEN GROUPING(stage_id) = 1 THEN 'total'
                                ELSE 'stage' END AS kind,
                           stage_id, NULL::numeric AS days,
                           (SELECT s.sequence FROM crm_stage s
                             WHERE s.id = x.stage_id) AS sequence,
                           %(sums)s,
                           SUM(days * entered) FILTER (WHERE days IS NOT NULL)
                           / NULLIF(SUM(entered) FILTER (WHERE days IS NOT NULL),
                                    0)::numeric AS average
                      FROM x
                     GROUP BY GROUPING SETS ((stage_id), ())
                    UNION ALL
                    -- the days' counts, for the medians
                    SELECT 'days', stage_id, days, NULL, %(measures)s, NULL
                      FROM x WHERE days IS NOT NULL
                    %(correction)s
                ) result
                ORDER BY kind, sequence, stage_id
                """,
                jit_off=JIT_OFF,
                sums=sums,
                parts=SQL(" UNION ALL ").join(parts),
                measures=measures,
                correction=correction,
            )
        )
        groups, total, histograms, corrections = {}, None, {}, []
        for kind, stage_id, days, _sequence, *values in self.env.cr.fetchall():
            counts = {
                m: int(v or 0) for m, v in zip(rollup.MEASURES, values, strict=False)
            }
            if kind == "days":
                for key in (stage_id, None):
                    histograms.setdefault(key, []).append(
                        (float(days), counts["entered"])
                    )
            elif kind == "correction":
                corrections.append(counts)
            elif kind == "total":
                total = dict(counts, average=values[-1])
            elif counts["entered"] or counts["skipped"]:
                groups[stage_id] = dict(counts, average=values[-1])
        for counts in corrections:
            total["leads"] += counts["leads"]
            total["leads_won"] += counts["leads_won"]
        for key, counts in [*groups.items(), (None, total)]:
            counts["median"] = _median(histograms.get(key, []))
        return groups, total

    def _rollup_values(self, sums, aggregates, stage):
        """The values of ``aggregates`` for a group's ``sums`` (of a stage,
        ``stage``, else of the total), as the rows' statement gives them: a
        sum over no row is NULL, a count of opportunities 0. An opportunity
        counts once in a stage through its last entry into it, once in the
        total through its last entry of all."""
        rows = (sums["entered"] or 0) + (sums["skipped"] or 0)
        opportunities = int(sums["visits" if stage else "leads"])
        won = int(sums["visits_won" if stage else "leads_won"])

        def total(measure):
            return int(sums[measure]) if rows else None

        values = []
        for spec in aggregates:
            if spec == "__count":
                values.append(int(rows))
            elif spec == "entered_count:sum":
                values.append(total("entered"))
            elif spec == "skipped_count:sum":
                values.append(total("skipped"))
            elif spec == "moved_on_count:sum":
                values.append(total("moved_on"))
            elif spec == "lost_count:sum":
                values.append(total("lost"))
            elif spec == "opportunity_count:sum":
                values.append(opportunities)
            elif spec == "won_count:sum":
                values.append(won)
            elif spec == "conversion:avg":
                values.append(_percent(won, opportunities))
            elif spec == "duration_days:avg":
                average = sums["average"]
                values.append(None if average is None else float(average))
            else:  # median_days:median
                values.append(sums["median"])
        return values


def _percent(numerator, denominator):
    """``percent_sql`` in Python, to the same float: PostgreSQL's float
    division, its conversion to numeric (15 significant digits) and its
    rounding half away from zero."""
    if not denominator:
        return None
    value = 100 * float(numerator) / float(denominator)
    return float(Decimal(f"{value:.15g}").quantize(Decimal("0.01"), ROUND_HALF_UP))


def _median(histogram):
    """PostgreSQL's ``percentile_cont(0.5)`` of the values counted in
    ``histogram`` ([(value, count)]), to the same float; None without
    values."""
    histogram = sorted((value, count) for value, count in histogram if count)
    count = sum(c for _v, c in histogram)
    if not count:
        return None
    position = 0.5 * (count - 1)
    first, second = math.floor(position), math.ceil(position)

    def nth(index):
        seen = 0
        for value, c in histogram:
            seen += c
            if index < seen:
                return value
        raise IndexError(index)

    low = nth(first)
    if first == second:
        return low
    high = nth(second)
    return low + ((position - first) * (high - low))
