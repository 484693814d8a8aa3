# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The stage analysis' rollup: what the history's rows add to "Analiza
etapów", summed per month, stage, company and days in the stage, kept by the
database with the rows it sums (triggers), so that a year of a million
opportunities is read from a few thousand sums instead of every history row.

Exact, not estimated. Each row's share depends on that row alone:
- whether it entered its stage (``sql.report_entry_sql``), moved on, was
  lost there, and its days in the stage;
- three marks kept on the row (``FLAGS_SQL``, the one place that decides
  them): ``visit_repeated`` (its opportunity entered the same stage again
  later), ``entry_last`` (the opportunity's last entry into any stage) and
  ``lead_won`` (the opportunity is won now).
An opportunity counts once in a stage through its last entry into it (it
entered the stage in a period reaching today if and only if that entry lies
in it), once in the total through its last entry of all (with a correction
read from the rows for the stages a filter leaves out), and the median is
taken from the days' counts. A read the sums cannot answer exactly (a closed
period, a filter on salespeople, an opportunity or a team, a salesperson
seeing their own only, another grouping) reads the history's rows, as
before: ``SalesFunnelStageReport._read_group_rollup`` decides.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..utils import Progress
from . import sql

# the sums of a rollup row, in the order the statements list them
MEASURES = (
    "entered",  # entries
    "visits",  # opportunities, through their last entry into the stage
    "visits_won",  # the same, won now
    "leads",  # opportunities, through their last entry into any stage
    "leads_won",  # the same, won now
    "moved_on",
    "lost",
    "skipped",
)
KEYS = ("month", "stage_id", "company_id", "days")

ROLLUP_TRIGGERS = (
    ("crm_lead_stage_history", "INSERT", "history_insert"),
    ("crm_lead_stage_history", "UPDATE", "history_update"),
    ("crm_lead_stage_history", "DELETE", "history_delete"),
    ("crm_lead_stage_history_skip", "INSERT", "skip_insert"),
    ("crm_lead_stage_history_skip", "UPDATE", "skip_update"),
    ("crm_lead_stage_history_skip", "DELETE", "skip_delete"),
)
FLAGS_FUNCTION = "sales_funnel_pl_history_flags"


def contributions_sql(history, skip, where=None, skip_where=None):
    """SQL rows (month, stage_id, company_id, days, then ``MEASURES``): what
    each row of ``history`` (rows of ``crm_lead_stage_history``) and of
    ``skip`` (rows of ``crm_lead_stage_history_skip``) adds to the stage
    analysis, the rows filtered by ``where`` (alias h) and ``skip_where``
    (alias k). The one rule the triggers, the rebuild, the reads of the
    period's edges and the tests use."""
    where = where or SQL("TRUE")
    skip_where = skip_where or SQL("TRUE")
    return SQL(
        """
        SELECT date_trunc('month', h.date_enter) AS month, h.stage_id,
               h.report_company_id AS company_id, %(days)s AS days,
               1 AS entered,
               (NOT COALESCE(h.visit_repeated, false))::int AS visits,
               (NOT COALESCE(h.visit_repeated, false)
                AND COALESCE(h.lead_won, false))::int AS visits_won,
               COALESCE(h.entry_last, false)::int AS leads,
               (COALESCE(h.entry_last, false)
                AND COALESCE(h.lead_won, false))::int AS leads_won,
               COALESCE(h.moved_on, false)::int AS moved_on,
               (h.left_change IS NOT DISTINCT FROM 'lost')::int AS lost,
               0 AS skipped
          FROM %(history)s h
         WHERE %(entry)s AND %(where)s
        UNION ALL
        SELECT date_trunc('month', k.date_enter), k.stage_id, k.report_company_id,
               NULL, 0, 0, 0, 0, 0, 0, 0, 1
          FROM %(skip)s k
         WHERE %(skip_where)s
        """,
        days=sql.days_in_stage_sql("h"),
        entry=sql.report_entry_sql("h"),
        history=history,
        skip=skip,
        where=where,
        skip_where=skip_where,
    )


def _sums_sql(rows, sign=None):
    """SQL: ``rows`` (contributions) summed per key; ``sign``: an SQL column
    of the rows multiplying each (deltas)."""
    factor = SQL("%s * ", sign) if sign else SQL()
    return SQL(
        "SELECT %s, %s FROM (%s) c GROUP BY %s",
        SQL(", ").join(SQL.identifier("c", key) for key in KEYS),
        SQL(", ").join(
            SQL("SUM(%s%s) AS %s", factor, SQL.identifier("c", m), SQL.identifier(m))
            for m in MEASURES
        ),
        rows,
        SQL(", ").join(SQL.identifier("c", key) for key in KEYS),
    )


def _insert_sums_sql(sums):
    """SQL adding the rows ``sums`` (keys and measures) to the rollup, but
    those that add nothing."""
    columns = SQL(", ").join(SQL.identifier(name) for name in KEYS + MEASURES)
    return SQL(
        "INSERT INTO sales_funnel_stage_rollup (%s) SELECT %s FROM (%s) s WHERE %s",
        columns,
        columns,
        sums,
        SQL(" OR ").join(SQL("%s <> 0", SQL.identifier(m)) for m in MEASURES),
    )


def flags_sql(lead_ids):
    """SQL setting the marks of the history rows of the opportunities
    ``lead_ids`` (an SQL integer array) where they changed: an entry is
    ``visit_repeated`` when its opportunity entered the same stage again
    after it, ``entry_last`` when it is its opportunity's last entry, and
    every row of a won opportunity is ``lead_won`` (the rows' own order:
    date_enter, then id). The one place these marks are decided."""
    return SQL(
        """
        UPDATE crm_lead_stage_history h
           SET visit_repeated = f.visit_repeated, entry_last = f.entry_last,
               lead_won = f.lead_won
          FROM (SELECT h.id,
                       e.entry AND row_number() OVER (
                           PARTITION BY h.lead_id, e.entry, h.stage_id
                           ORDER BY h.date_enter DESC, h.id DESC) > 1 AS visit_repeated,
                       e.entry AND row_number() OVER (
                           PARTITION BY h.lead_id, e.entry
                           ORDER BY h.date_enter DESC, h.id DESC) = 1 AS entry_last,
                       %(won)s AS lead_won
                  FROM crm_lead_stage_history h
                  CROSS JOIN LATERAL (SELECT %(entry)s AS entry) e
                  JOIN crm_lead l ON l.id = h.lead_id
                  LEFT JOIN crm_stage ws ON ws.id = l.stage_id
                 -- the ids again for the opportunities, as an index
                 -- condition: not a scan of every opportunity (0.37 s at a
                 -- million, for a batch of a thousand)
                 WHERE h.lead_id = ANY(%(lead_ids)s)
                   AND l.id = ANY(%(lead_ids)s)) f
         WHERE f.id = h.id
           AND (COALESCE(h.visit_repeated, false), COALESCE(h.entry_last, false),
                COALESCE(h.lead_won, false))
               IS DISTINCT FROM (f.visit_repeated, f.entry_last, f.lead_won)
        """,
        won=sql.won_sql("l", "ws"),
        entry=sql.report_entry_sql("h"),
        lead_ids=lead_ids,
    )


def appended_marks_sql(history_alias, entry, stage, won):
    """The marks of an opportunity's rows (aliased ``history_alias``) when a
    row is appended after all of them: ``entry`` (SQL condition: the new row
    is an entry), into ``stage`` (SQL), the opportunity ``won`` now (SQL).
    ``flags_sql``'s rule for that case, which the stage changes apply in
    their own statement (``crm.lead.stage.history._log``): the last entry
    is no longer the last, an earlier entry into the same stage is now
    entered again, and every row is won as the opportunity is. Returns the
    SQL assignments of the UPDATE and the condition picking the rows they
    change (the rollup's insert trigger applies ``flags_sql`` instead to an
    opportunity whose new row is not its last)."""
    column = lambda name: SQL.identifier(history_alias, name)  # noqa: E731
    same_stage_entry = SQL(
        "%s AND %s AND %s = %s",
        entry,
        sql.report_entry_sql(history_alias),
        column("stage_id"),
        stage,
    )
    assignments = SQL(
        """entry_last = COALESCE(%(last)s, false) AND NOT %(entry)s,
           visit_repeated = COALESCE(%(repeated)s, false) OR (%(same)s),
           lead_won = %(won)s""",
        last=column("entry_last"),
        repeated=column("visit_repeated"),
        entry=entry,
        same=same_stage_entry,
        won=won,
    )
    condition = SQL(
        """(%(entry)s AND %(last)s)
           OR (%(same)s AND NOT COALESCE(%(repeated)s, false))
           OR COALESCE(%(lead_won)s, false) <> %(won)s""",
        last=column("entry_last"),
        repeated=column("visit_repeated"),
        lead_won=column("lead_won"),
        entry=entry,
        same=same_stage_entry,
        won=won,
    )
    return assignments, condition


def _changed_leads_sql():
    """SQL: the opportunities of an UPDATE's rows whose marks may change
    (their opportunity, stage, kind or moment changed: a merge, a
    migration), read from the transition tables. Grouped, not joined: a
    trigger's plan is made once per connection, with the sizes of the
    transition tables of its first call (a stage change's UPDATE of no row,
    when an opportunity is created), and a join planned for none compared a
    thousand rows with a thousand (a second for a batch at a million)."""
    return SQL(
        """ARRAY(SELECT DISTINCT c.lead_id
                   FROM (SELECT r.lead_id
                           FROM (SELECT n.id, n.lead_id, n.stage_id, n.change_type,
                                        n.date_enter, 1 AS side
                                   FROM new_rows n
                                 UNION ALL
                                 SELECT o.id, o.lead_id, o.stage_id, o.change_type,
                                        o.date_enter, -1
                                   FROM old_rows o) r
                          GROUP BY r.id, r.lead_id, r.stage_id, r.change_type,
                                   r.date_enter
                         HAVING sum(r.side) <> 0) c)"""
    )


def _inserted_leads_sql():
    """SQL: the opportunities of an INSERT's rows whose marks are to be set
    again: rows written without them (NULL), or rows not appended after
    every row their opportunity had (a later row exists that the statement
    did not write). The history's writers (``_log``, the backfill) set the
    marks of the rows they append at the end, and ``_log`` those of the
    opportunity's other rows too: nothing more to do for them, but this one
    probe per opportunity of the history's index in its rows' order."""
    return SQL(
        """ARRAY(SELECT f.lead_id
                   FROM (SELECT DISTINCT ON (lead_id) lead_id, date_enter, id,
                                count(*) OVER (PARTITION BY lead_id) AS written,
                                bool_or(entry_last IS NULL OR visit_repeated IS NULL
                                        OR lead_won IS NULL)
                                    OVER (PARTITION BY lead_id) AS unmarked
                           FROM new_rows
                          ORDER BY lead_id, date_enter, id) f
                  WHERE f.unmarked
                     OR (SELECT count(*) FROM crm_lead_stage_history h
                          WHERE h.lead_id = f.lead_id
                            AND (h.date_enter, h.id) >= (f.date_enter, f.id))
                        > f.written)"""
    )


def _no_rows(table):
    return SQL("(SELECT * FROM %s WHERE false)", SQL.identifier(table))


def _trigger_body(name):
    """The trigger function ``name`` (ROLLUP_TRIGGERS)'s statements: the
    opportunities whose marks may have changed (an SQL array, or None) and
    the statement adding the differences to the sums."""
    new, old = SQL("new_rows"), SQL("old_rows")
    table, _op = name.split("_")
    if table == "history":
        rows = {"history": new, "skip": _no_rows("crm_lead_stage_history_skip")}
        before = {"history": old, "skip": _no_rows("crm_lead_stage_history_skip")}
    else:
        rows = {"history": _no_rows("crm_lead_stage_history"), "skip": new}
        before = {"history": _no_rows("crm_lead_stage_history"), "skip": old}
    leads = None
    if name == "history_insert":
        leads = _inserted_leads_sql()
    elif name == "history_update":
        leads = _changed_leads_sql()
    parts = []
    if name.endswith(("_insert", "_update")):
        parts.append(
            SQL("SELECT 1 AS sign, c.* FROM (%s) c", contributions_sql(**rows))
        )
    if name.endswith(("_update", "_delete")):
        parts.append(
            SQL("SELECT -1 AS sign, c.* FROM (%s) c", contributions_sql(**before))
        )
    delta = _insert_sums_sql(
        _sums_sql(SQL(" UNION ALL ").join(parts), SQL.identifier("c", "sign"))
    )
    return leads, delta


class SalesFunnelStageRollup(models.Model):
    """Sums of the stage analysis per month (of the entry, UTC), stage,
    company and days in the stage: each history change adds a row of
    differences (written by the database's triggers, see the module's
    docstring), which ``_compact`` folds together daily. Never written by
    hand."""

    _name = "sales.funnel.stage.rollup"
    _description = "Stage Analysis Sums"
    _log_access = False
    _order = "month, stage_id"

    month = fields.Datetime(readonly=True, index=True)
    # plain ids: the sums are the database's, kept with rows that already
    # check their stage and company; a key checked again on every write
    # would cost each stage change more
    stage_id = fields.Integer(string="Stage", readonly=True)
    company_id = fields.Integer(string="Company", readonly=True)
    days = fields.Float(string="Days in Stage", digits=(16, 2), readonly=True)
    entered = fields.Integer(string="Entries", readonly=True)
    visits = fields.Integer(string="Opportunities", readonly=True)
    visits_won = fields.Integer(string="Won Eventually", readonly=True)
    leads = fields.Integer(string="Opportunities in All Stages", readonly=True)
    leads_won = fields.Integer(string="Won in All Stages", readonly=True)
    moved_on = fields.Integer(readonly=True)
    lost = fields.Integer(string="Lost Here", readonly=True)
    skipped = fields.Integer(readonly=True)

    @api.model
    def _create_triggers(self):
        """Create (again) the marks' function and the triggers keeping the
        sums: called by the history's ``init``, once its columns are there
        (the sums' own table is there before any row is written). The
        statements' values are written into the functions' bodies. JIT is
        off in them: their plans, made without the transition tables' sizes,
        passed its threshold at a million rows and compiled for 0.35 s a
        statement that runs in 3 ms (an opportunity's company changed)."""
        cr = self.env.cr
        # the marks, decided in one place, callable from Python too (in
        # PL/pgSQL; planned for its opportunities at each call: the plan
        # made for any number of them read twice as long for a thousand)
        cr.execute(
            SQL(
                """CREATE OR REPLACE FUNCTION %s(lead_ids integer[])
                   RETURNS void AS $$ BEGIN %s; END $$
                   LANGUAGE plpgsql SET jit = off
                   SET plan_cache_mode = force_custom_plan""",
                SQL.identifier(FLAGS_FUNCTION),
                flags_sql(SQL("lead_ids")),
            )
        )
        for table, operation, name in ROLLUP_TRIGGERS:
            function = SQL.identifier(f"sales_funnel_pl_stage_rollup_{name}")
            leads, delta = _trigger_body(name)
            marks = SQL()
            if leads:
                # (a statement's trigger runs even for no row: the marks'
                # own UPDATE would call it again without end)
                marks = SQL(
                    """lead_ids := %s;
                       IF cardinality(lead_ids) > 0 THEN
                           PERFORM %s(lead_ids);
                       END IF;""",
                    leads,
                    SQL.identifier(FLAGS_FUNCTION),
                )
            cr.execute(
                SQL(
                    """
                CREATE OR REPLACE FUNCTION %(function)s() RETURNS trigger AS $$
                DECLARE
                    lead_ids integer[];
                BEGIN
                    %(marks)s
                    %(delta)s;
                    RETURN NULL;
                END
                $$ LANGUAGE plpgsql SET jit = off;
                DROP TRIGGER IF EXISTS %(function)s ON %(table)s;
                CREATE TRIGGER %(function)s AFTER %(operation)s ON %(table)s
                    REFERENCING %(referencing)s
                    FOR EACH STATEMENT EXECUTE FUNCTION %(function)s();
                """,
                    function=function,
                    marks=marks,
                    delta=delta,
                    table=SQL.identifier(table),
                    operation=SQL(operation),
                    referencing=SQL(
                        {
                            "INSERT": "NEW TABLE AS new_rows",
                            "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
                            "DELETE": "OLD TABLE AS old_rows",
                        }[operation]
                    ),
                )
            )

    @api.model
    def _drop_triggers(self):
        """Drop the triggers and functions (the uninstall, before the
        history is emptied: its sums go with it)."""
        for table, _operation, name in ROLLUP_TRIGGERS:
            function = SQL.identifier(f"sales_funnel_pl_stage_rollup_{name}")
            self.env.cr.execute(
                SQL(
                    """DROP TRIGGER IF EXISTS %s ON %s;
                       DROP FUNCTION IF EXISTS %s()""",
                    function,
                    SQL.identifier(table),
                    function,
                )
            )
        self.env.cr.execute(
            SQL("DROP FUNCTION IF EXISTS %s(integer[])", SQL.identifier(FLAGS_FUNCTION))
        )

    @api.model
    def _refresh_stages(self, stages):
        """Set the marks of the history rows of the opportunities in
        ``stages`` again: they are won, or no longer, without a history row
        of their own (a stage's "won" ticked or unticked)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT %s(ARRAY(SELECT id FROM crm_lead WHERE stage_id = ANY(%s)))",
                SQL.identifier(FLAGS_FUNCTION),
                stages.ids,
            )
        )
        self.env["crm.lead.stage.history"].invalidate_model(
            ["visit_repeated", "entry_last", "lead_won"]
        )

    @api.model
    def _expected_sums_sql(self):
        """SQL: the sums as the history's rows give them now, one row per key
        (the rebuild's, and the tests' reference)."""
        return _sums_sql(
            contributions_sql(
                SQL("crm_lead_stage_history"), SQL("crm_lead_stage_history_skip")
            )
        )

    @api.model
    def _rebuild(self, batch=20000):
        """Set every history row's marks again, batch by batch of
        opportunities (logged), then the sums from the rows (an upgrade from
        a release without them)."""
        cr = self.env.cr
        self.env["crm.lead.stage.history"].flush_model()
        cr.execute("SELECT count(*) FROM crm_lead")
        progress = Progress(
            "sales_funnel_pl: stage analysis marks", cr.fetchone()[0], "opportunities"
        )
        # the sums are made again from the rows at the end: no differences
        # written meanwhile
        cr.execute(
            """ALTER TABLE crm_lead_stage_history
               DISABLE TRIGGER sales_funnel_pl_stage_rollup_history_update"""
        )
        last_id = 0
        while True:
            cr.execute(
                "SELECT id FROM crm_lead WHERE id > %s ORDER BY id LIMIT %s",
                [last_id, batch],
            )
            ids = [row[0] for row in cr.fetchall()]
            if not ids:
                break
            last_id = ids[-1]
            cr.execute(SQL("SELECT %s(%s)", SQL.identifier(FLAGS_FUNCTION), ids))
            progress.advance(len(ids))
        progress.finish()
        cr.execute(
            """ALTER TABLE crm_lead_stage_history
               ENABLE TRIGGER sales_funnel_pl_stage_rollup_history_update"""
        )
        cr.execute("DELETE FROM sales_funnel_stage_rollup")
        cr.execute(_insert_sums_sql(self._expected_sums_sql()))
        cr.execute("ANALYZE sales_funnel_stage_rollup")
        self.env["crm.lead.stage.history"].invalidate_model()

    @api.model
    def _compact(self):
        """Fold the rows of differences into one per key (the scheduled
        action, daily, and after the install's backfill). Rows added
        meanwhile by other transactions are not seen, hence kept: the sums
        stay exact."""
        self.env.cr.execute(
            SQL(
                """WITH gone AS (DELETE FROM sales_funnel_stage_rollup RETURNING *)
                   %s""",
                _insert_sums_sql(_sums_sql(SQL("SELECT * FROM gone"))),
            )
        )
