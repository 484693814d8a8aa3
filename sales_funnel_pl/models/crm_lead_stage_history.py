# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .. import compat
from ..report.sales_funnel_stage_rollup import appended_marks_sql
from ..report.sql import report_entry_sql, won_sql
from ..utils import (
    Progress,
    foreign_keys_checked_after,
    indexes_built_after,
    jit_disabled,
    user_tz,
)
from .crm_stage import stage_order_sql

BACKFILL_BATCH = 5000


def stage_there_at_sql(stage_alias, moment):
    """SQL condition: the stage aliased ``stage_alias`` was there at
    ``moment`` (created before it), to be skipped by a move made then."""
    return SQL("%s.create_date <= %s", SQL.identifier(stage_alias), moment)


def moved_on_sql(change, stage_alias, next_stage_alias):
    """SQL: whether a row of the stage aliased ``stage_alias``, left by the
    change ``change`` (SQL) for the stage aliased ``next_stage_alias``, moved
    on: a sales move (a stage change or a win) to a later stage in crm's
    stage order. A mapping, a loss or a restoration never moves on. The live
    log and the install's backfill both use it."""
    return SQL(
        "COALESCE(%(change)s IN ('stage', 'won') AND %(next)s > %(stage)s, false)",
        change=change,
        next=stage_order_sql(next_stage_alias),
        stage=stage_order_sql(stage_alias),
    )


def duration_sql(day, next_day):
    """SQL: the days spent in a stage dated ``day`` that was followed by a
    stage dated ``next_day`` (never negative)."""
    return SQL("GREATEST(%s - %s, 0)", next_day, day)


HISTORY_COMPANY_TRIGGER = """
CREATE OR REPLACE FUNCTION sales_funnel_pl_history_company() RETURNS trigger AS $$
BEGIN
    UPDATE crm_lead_stage_history SET report_company_id = NEW.company_id
     WHERE lead_id = NEW.id AND report_company_id IS DISTINCT FROM NEW.company_id;
    UPDATE crm_lead_stage_history_skip SET report_company_id = NEW.company_id
     WHERE lead_id = NEW.id AND report_company_id IS DISTINCT FROM NEW.company_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS sales_funnel_pl_history_company ON crm_lead;
CREATE TRIGGER sales_funnel_pl_history_company
    AFTER UPDATE OF company_id ON crm_lead
    FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION sales_funnel_pl_history_company();
"""


BACKFILL_SQL = """
WITH tracking AS (
    SELECT m.res_id AS lead_id, m.date, m.create_uid AS user_id, v.id AS seq,
           v.old_value_integer AS old_stage_id, v.new_value_integer AS new_stage_id
      FROM mail_message m
      -- each message's tracking through its index (joined, the batch's
      -- messages were estimated at three times their number, and every
      -- tracking value of the database was read and hashed for each batch:
      -- 9 million, 5 of a batch's 7 s at a million)
     CROSS JOIN LATERAL (
           SELECT v.id, v.old_value_integer, v.new_value_integer
             FROM mail_tracking_value v
            WHERE v.mail_message_id = m.id AND v.field_id = %(field_id)s
           OFFSET 0) v
     WHERE m.model = 'crm.lead'
       AND m.res_id = ANY(%(lead_ids)s)
), first_tracking AS (
    SELECT DISTINCT ON (lead_id) lead_id, old_stage_id
      FROM tracking
     ORDER BY lead_id, date, seq
), last_tracking AS (
    -- (grouped once: a lookup per opportunity in the tracking would read
    -- all of it each time)
    SELECT lead_id, max(date) AS date FROM tracking GROUP BY lead_id
), entries AS (
    SELECT l.id AS lead_id,
           COALESCE(f.old_stage_id, l.stage_id) AS stage_id,
           NULL::integer AS previous_stage_id,
           CASE WHEN f.lead_id IS NULL
                THEN COALESCE(l.date_last_stage_update, l.create_date)
                ELSE l.create_date END AS date_enter,
           l.create_uid AS user_id,
           'create' AS change_type,
           0 AS seq
      FROM crm_lead l
      LEFT JOIN first_tracking f ON f.lead_id = l.id
     WHERE l.id = ANY(%(lead_ids)s) AND COALESCE(f.old_stage_id, l.stage_id) IS NOT NULL
    UNION ALL
    SELECT t.lead_id, t.new_stage_id, t.old_stage_id, t.date, t.user_id,
           CASE WHEN st.is_won THEN 'won' ELSE 'stage' END, t.seq
      FROM tracking t
      LEFT JOIN crm_stage st ON st.id = t.new_stage_id
    UNION ALL
    -- a lost opportunity was lost in its stage when it was closed
    SELECT l.id, l.stage_id, l.stage_id, l.date_closed,
           COALESCE(l.write_uid, l.create_uid), 'lost', 2147483647
      FROM crm_lead l
      LEFT JOIN last_tracking lt ON lt.lead_id = l.id
     WHERE l.id = ANY(%(lead_ids)s) AND NOT l.active AND l.stage_id IS NOT NULL
       AND l.date_closed IS NOT NULL
       AND l.date_closed >= COALESCE(lt.date, l.create_date)
), ordered AS (
    SELECT e.*,
           lead(e.date_enter) OVER w AS date_leave,
           lead(e.stage_id) OVER w AS next_stage_id,
           lead(e.change_type) OVER w AS left_change,
           row_number() OVER w = count(*) OVER (PARTITION BY e.lead_id) AS is_last
      FROM entries e
    WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.date_enter, e.seq)
), dated AS (
    -- the stage date of a past row is the local day (of the user who made
    -- the change) it was entered on; the current row's is the opportunity's
    SELECT o.*,
           CASE WHEN o.is_last AND o.change_type <> 'lost' THEN l.date_stage
                ELSE (o.date_enter AT TIME ZONE 'UTC'
                      AT TIME ZONE COALESCE(p.tz, %(tz)s))::date END AS day
      FROM ordered o
      -- (the batch's ids again: else every opportunity is read and hashed)
      JOIN crm_lead l ON l.id = o.lead_id AND l.id = ANY(%(lead_ids)s)
      LEFT JOIN res_users u ON u.id = o.user_id
      LEFT JOIN res_partner p ON p.id = u.partner_id
), days AS (
    SELECT d.*, lead(d.day) OVER (PARTITION BY d.lead_id ORDER BY d.date_enter, d.seq)
               AS next_day
      FROM dated d
), inserted AS (
INSERT INTO crm_lead_stage_history (
    lead_id, stage_id, previous_stage_id, change_type, date_enter, date_leave,
    next_stage_id, left_change, moved_on, duration_days, date_stage, user_id,
    salesperson_id, team_id, probability, expected_revenue, prorated_revenue,
    report_company_id, visit_repeated, entry_last, lead_won,
    create_uid, create_date, write_uid, write_date)
SELECT o.lead_id, s.id, ps.id, o.change_type,
       o.date_enter,
       CASE WHEN NOT o.is_last THEN GREATEST(o.date_leave, o.date_enter) END,
       ns.id, o.left_change,
       %(moved_on)s,
       CASE WHEN NOT o.is_last THEN %(duration)s END,
       o.day,
       o.user_id, l.user_id, l.team_id,
       -- a past row of the funnel: its stage's probability; elsewhere crm keeps the
       -- opportunity's own probability from stage to stage
       CASE WHEN o.is_last OR NOT COALESCE(s.is_funnel_stage, false)
            THEN l.probability ELSE s.probability END,
       l.expected_revenue,
       round((l.expected_revenue
              * CASE WHEN o.is_last OR NOT COALESCE(s.is_funnel_stage, false)
                     THEN l.probability
                     ELSE COALESCE(s.probability, 0) END / 100.0)::numeric, 2),
       l.company_id,
       -- the stage analysis' marks, as the rollup's triggers would set them
       r.entry AND row_number() OVER (
           PARTITION BY o.lead_id, r.entry, s.id
           ORDER BY o.date_enter DESC, o.seq DESC) > 1,
       r.entry AND row_number() OVER (
           PARTITION BY o.lead_id, r.entry ORDER BY o.date_enter DESC, o.seq DESC) = 1,
       %(won)s,
       o.user_id, o.date_enter, o.user_id, o.date_enter
  FROM days o
  JOIN crm_lead l ON l.id = o.lead_id AND l.id = ANY(%(lead_ids)s)
  LEFT JOIN crm_stage ls ON ls.id = l.stage_id
  LEFT JOIN crm_stage s ON s.id = o.stage_id
  CROSS JOIN LATERAL (SELECT %(entry)s AS entry
                        FROM (SELECT o.change_type, s.id AS stage_id) r) r
  LEFT JOIN crm_stage ps ON ps.id = o.previous_stage_id
  LEFT JOIN crm_stage ns ON ns.id = o.next_stage_id
 -- ids in the order of the moves, which is how rows entered at the same
 -- moment are told apart afterwards
 ORDER BY o.lead_id, o.date_enter, o.seq
RETURNING *
)
%(skipped)s
"""


@compat.sql_constraints(
    dates_ordered=(
        "CHECK(date_leave IS NULL OR date_leave >= date_enter)",
        "A stage cannot be left before it was entered.",
    ),
)
class CrmLeadStageHistory(models.Model):
    """One row each time an opportunity enters a stage (or is won, lost or
    restored). Rows are facts: written by the opportunity itself, never
    created, changed (but for the stage date, by a sales manager) or deleted
    by hand."""

    _name = "crm.lead.stage.history"
    _description = "Opportunity Stage History"
    _order = "date_enter desc, id desc"
    _rec_name = "stage_id"

    # indexed with its rows' order (init), which serves every lookup by
    # opportunity as Odoo's own index on the column would
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    stage_id = fields.Many2one(
        "crm.stage", string="Stage", index=True, ondelete="restrict", readonly=True
    )
    previous_stage_id = fields.Many2one(
        "crm.stage", string="Previous Stage", ondelete="restrict", readonly=True
    )
    change_type = fields.Selection(
        [
            ("create", "Created"),
            ("stage", "Stage change"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
            ("import", "From the chatter"),
            ("map", "Stage mapping"),
        ],
        string="Change",
        required=True,
        default="stage",
        readonly=True,
    )
    next_stage_id = fields.Many2one(
        "crm.stage",
        string="Next Stage",
        ondelete="set null",
        readonly=True,
        help="The stage the opportunity was in right after leaving this row.",
    )
    left_change = fields.Selection(
        [
            ("stage", "Stage change"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
            ("map", "Stage mapping"),
            ("merge", "Merged"),
        ],
        string="Left by",
        readonly=True,
    )
    merged_lead_id = fields.Integer(
        string="Merged Opportunity",
        readonly=True,
        help="The id of the opportunity this row was written for, when it was "
        "merged into another: its rows keep their own succession of stages.",
    )
    moved_on = fields.Boolean(
        readonly=True,
        help="Left for a later stage of the funnel (as the funnel stood then).",
    )
    skipped_stage_ids = fields.Many2many(
        "crm.stage",
        string="Skipped Stages",
        compute="_compute_skipped_stage_ids",
        help="The funnel stages between the previous stage and this one, which "
        "the opportunity did not go through (as the funnel stood then).",
    )
    date_enter = fields.Datetime(
        string="Entered", required=True, index=True, readonly=True
    )
    date_leave = fields.Datetime(string="Left", readonly=True)
    date_stage = fields.Date(
        string="Stage Date", help="The date on which the stage took place."
    )
    duration_days = fields.Float(
        string="Days in Stage",
        digits=(16, 2),
        readonly=True,
        aggregator="avg",
        help="Days between this stage's date and the date of the stage that "
        "followed it (the business dates, backdated ones included).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Changed by",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    salesperson_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    probability = fields.Float(readonly=True, aggregator="avg")
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    prorated_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    # the opportunity's company, never a copy: a row cannot drift from it
    # (stored, it would cost queries on every salesperson or team change)
    company_id = fields.Many2one(related="lead_id.company_id", string="Company")
    # the same company, stored for the stage analysis' SQL (one scan of the
    # history, no join): written with the row, then kept equal to the
    # opportunity's by a database trigger (see init), whatever changes it
    report_company_id = fields.Many2one(
        "res.company", string="Company (analysis)", readonly=True, index=True
    )
    company_currency = fields.Many2one(
        related="company_id.currency_id", string="Currency"
    )

    # the stage analysis' marks, decided in one place and kept by the
    # database (report/sales_funnel_stage_rollup.py: ``flags_sql``): an
    # opportunity counts once per stage through the entry not repeated
    # later, once in all through its last entry
    visit_repeated = fields.Boolean(
        string="Stage Entered Again",
        readonly=True,
        help="The opportunity entered this row's stage again later.",
    )
    entry_last = fields.Boolean(
        string="Last Entry",
        readonly=True,
        help="The opportunity's last entry into a stage.",
    )
    lead_won = fields.Boolean(
        string="Opportunity Won", readonly=True, help="The opportunity is won now."
    )

    is_manager = fields.Boolean(compute="_compute_is_manager")

    def init(self):
        # the open row of an opportunity is looked up at every stage change
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_lead_stage_history_open_idx
               ON crm_lead_stage_history (lead_id) WHERE date_leave IS NULL"""
        )
        # an opportunity's rows in their order: its history, the row it was
        # in at a moment (what "Zmiany w lejku" reads for each opportunity at
        # its start: one index probe, no sort), the cascade of its deletion.
        # It takes the place of Odoo's index on lead_id (same leading
        # column), which Odoo keeps once made: dropped here, so that a write
        # updates one of them, not both.
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_lead_stage_history_lead_order_idx
               ON crm_lead_stage_history (lead_id, date_enter, id)"""
        )
        self.env.cr.execute(
            "DROP INDEX IF EXISTS crm_lead_stage_history__lead_id_index"
        )
        # the stage analysis' total counts an opportunity through its last
        # entry; those into the stages a filter leaves out are read here
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_lead_stage_history_entry_last_idx
               ON crm_lead_stage_history (stage_id, date_enter) WHERE entry_last"""
        )
        # An opportunity's company changes through crm's computes (its team,
        # salesperson or customer), not only through writes: the database
        # keeps the rows' analysis company equal to it, at no cost when the
        # company stays (dropped by the uninstall hook).
        self.env.cr.execute(HISTORY_COMPANY_TRIGGER)

    @api.model
    def _insert_skipped_stages_sql(self, rows, past=False):
        """SQL recording the skipped stages of the history rows ``rows`` (a
        table or CTE with the history's columns id, lead_id, stage_id,
        previous_stage_id, change_type, team_id, salesperson_id,
        date_enter and report_company_id): the active stages of the row's team
        ordered strictly between the previous stage and the new one.

        ``past``: the rows are moves made before now (the install's backfill
        from the chatter, a migration): a stage created after the move (the
        funnel's own stages, created by the install, for the moves of the
        years before it) was not there to be skipped. A move written now
        skips the stages as they stand."""
        existed = stage_there_at_sql("sk", SQL("r.date_enter")) if past else SQL("TRUE")
        return SQL(
            """
            INSERT INTO crm_lead_stage_history_skip (
                history_id, stage_id, lead_id, team_id, salesperson_id, date_enter,
                report_company_id)
            SELECT r.id, sk.id, r.lead_id, r.team_id, r.salesperson_id, r.date_enter,
                   r.report_company_id
              FROM %(rows)s r
              JOIN crm_stage s ON s.id = r.stage_id
              JOIN crm_stage ps ON ps.id = r.previous_stage_id
              JOIN crm_stage sk ON %(skipped)s > %(previous)s
                               AND %(skipped)s < %(stage)s
                               AND sk.active
                               AND %(of_team)s
                               AND %(existed)s
             WHERE r.change_type IN ('stage', 'won')
            """,
            rows=rows,
            existed=existed,
            skipped=stage_order_sql("sk"),
            previous=stage_order_sql("ps"),
            stage=stage_order_sql("s"),
            of_team=compat.stage_of_team_sql("sk", SQL("r.team_id")),
        )

    # ------------------------------------------------------------
    # WRITING THE HISTORY: the history writes itself, from the events of
    # an opportunity's write (``_log``) or of the install (``_backfill``)
    # ------------------------------------------------------------

    @api.model
    def _log(self, leads, events, check_dates=False, value_changes=()):
        """Close the open history rows of the opportunities in ``events``
        ({lead id: (previous stage id, change type)}, ``leads`` holding them)
        and open a new one for each, in one query whatever their number; the
        same statement keeps how far each got (``stage_reached_id``), who
        worked on it (not a mapping: a migration is nobody's work) and the
        write's changes of the values the forecast is made of
        (``value_changes``: rows of ``crm.lead.value.change._rows``, which a
        stage move makes through the probability: no query more).

        Days in a stage count from the business stage dates: a row is left
        on the stage date of the row that follows it (the day of the event
        for a loss or a restoration, never before the stage's own date)."""
        if not events:
            return
        leads = leads.browse(list(events))
        # the flush rounds crm's monetary fields with each opportunity's
        # currency, a computed field it would compute one opportunity at a
        # time: compute it once for the batch
        leads.mapped("company_currency")
        leads.flush_model()
        # the statement reads the stages' order and activity (skipped
        # stages, moving on): a stage changed in this transaction counts
        self.env["crm.stage"].flush_model()
        lead_ids = list(events)
        now = self.env.cr.now()
        today = fields.Date.context_today(leads)
        marks, marks_changed = appended_marks_sql(
            "h", report_entry_sql("e"), SQL("e.stage_id"), SQL("e.won")
        )
        self.env.cr.execute(
            SQL(
                """
            WITH events AS (
                -- each opportunity read once, with its open row and what its
                -- new row records
                SELECT e.*, h.id AS open_id, h.date_stage AS open_day,
                       CASE WHEN e.change_type IN ('lost', 'restore')
                            THEN GREATEST(%(today)s::date,
                                          COALESCE(l.date_stage, %(today)s::date))
                            ELSE COALESCE(l.date_stage, %(today)s::date) END AS day,
                       %(moved_on)s AS moved_on, %(won)s AS won,
                       l.stage_id, l.user_id, l.team_id, l.probability,
                       l.expected_revenue, l.prorated_revenue, l.company_id
                  FROM unnest(%(lead_ids)s::integer[], %(previous)s::integer[],
                              %(kinds)s::varchar[])
                    AS e(lead_id, previous_stage_id, change_type)
                  JOIN crm_lead l ON l.id = e.lead_id
                  -- the lead ids again, as an index condition: the open rows
                  -- are then found one lookup per opportunity, never by a
                  -- range scan of every open row (see the benchmark)
                  LEFT JOIN crm_lead_stage_history h
                         ON h.lead_id = e.lead_id AND h.date_leave IS NULL
                        AND h.lead_id = ANY(%(lead_ids)s)
                  LEFT JOIN crm_stage cs ON cs.id = h.stage_id
                  LEFT JOIN crm_stage ns ON ns.id = l.stage_id
            ), closed AS (
                -- the open row closed, and the stage analysis' marks of the
                -- opportunity's rows as a row appended last makes them
                -- (the rollup's ``appended_marks_sql``)
                UPDATE crm_lead_stage_history h
                   SET date_leave = CASE WHEN h.id = e.open_id
                                         THEN GREATEST(%(now)s, h.date_enter)
                                         ELSE h.date_leave END,
                       duration_days = CASE WHEN h.id = e.open_id
                                            THEN %(duration)s
                                            ELSE h.duration_days END,
                       next_stage_id = CASE WHEN h.id = e.open_id THEN e.stage_id
                                            ELSE h.next_stage_id END,
                       left_change = CASE WHEN h.id = e.open_id THEN e.change_type
                                          ELSE h.left_change END,
                       moved_on = CASE WHEN h.id = e.open_id THEN e.moved_on
                                       ELSE h.moved_on END,
                       %(marks)s,
                       write_uid = CASE WHEN h.id = e.open_id THEN %(uid)s
                                        ELSE h.write_uid END,
                       write_date = CASE WHEN h.id = e.open_id THEN %(now)s
                                         ELSE h.write_date END
                  FROM events e
                 WHERE h.lead_id = e.lead_id AND h.lead_id = ANY(%(lead_ids)s)
                   AND (h.id = e.open_id OR %(marks_changed)s)
             RETURNING h.lead_id
            ), process_users AS (
                -- whoever changes the stage works on the process (a
                -- mapping is a migration, nobody's work)
                INSERT INTO crm_lead_process_user_rel (lead_id, user_id)
                SELECT lead_id, %(uid)s FROM events WHERE change_type <> 'map'
                ON CONFLICT DO NOTHING
            ), reached AS (
                %(reached)s
            )%(value_changes)s, inserted AS (
                INSERT INTO crm_lead_stage_history (
                    lead_id, stage_id, previous_stage_id, change_type, date_enter,
                    date_stage, user_id, salesperson_id, team_id, probability,
                    expected_revenue, prorated_revenue, report_company_id,
                    visit_repeated, entry_last, lead_won,
                    create_uid, create_date, write_uid, write_date)
                SELECT e.lead_id, e.stage_id, e.previous_stage_id, e.change_type,
                       %(now)s, e.day, %(uid)s, e.user_id, e.team_id, e.probability,
                       e.expected_revenue, e.prorated_revenue, e.company_id,
                       -- the newest row, its marks set (those of the others
                       -- above): the rollup's insert trigger leaves them
                       false, %(entry)s, e.won,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM events e
                RETURNING *
            )
            %(skipped)s
            """,
                now=now,
                today=today,
                uid=self.env.uid,
                lead_ids=lead_ids,
                previous=[events[lead_id][0] or None for lead_id in lead_ids],
                kinds=[events[lead_id][1] for lead_id in lead_ids],
                moved_on=moved_on_sql(SQL("e.change_type"), "cs", "ns"),
                won=won_sql("l", "ns"),
                entry=report_entry_sql("e"),
                marks=marks,
                marks_changed=marks_changed,
                duration=duration_sql(SQL("h.date_stage"), SQL("e.day")),
                reached=self.env["crm.lead"]._stage_reached_sql(SQL("events")),
                value_changes=SQL(
                    ", value_changes AS (%s)",
                    self.env["crm.lead.value.change"]._insert_sql(value_changes),
                )
                if value_changes
                else SQL(),
                skipped=self._insert_skipped_stages_sql(SQL("inserted")),
            )
        )
        self.invalidate_model()
        if value_changes:
            self.env["crm.lead.value.change"].invalidate_model()
        leads.invalidate_recordset(
            [
                "stage_history_ids",
                "stage_history_count",
                "process_user_ids",
                "stage_reached_id",
            ]
        )
        if check_dates:
            self._check_dates(leads)

    @api.model
    def _sync_date_stage(self, leads):
        """A backdated stage date is the date of the open history row too; the
        days spent in the stage before follow."""
        if not leads:
            return
        leads.flush_recordset(["date_stage"])
        self.env.cr.execute(
            """UPDATE crm_lead_stage_history h SET date_stage = l.date_stage
                 FROM crm_lead l
                WHERE h.lead_id = l.id AND h.date_leave IS NULL AND l.id = ANY(%s)
                  AND h.change_type NOT IN ('lost', 'restore')
                  AND h.date_stage IS DISTINCT FROM l.date_stage""",
            [leads.ids],
        )
        self.invalidate_model(["date_stage"])
        self._recompute_durations(leads)
        self._check_dates(leads)

    @api.model
    def _recompute_durations(self, leads):
        """Days in each left stage of ``leads``, from the stage dates of
        consecutive rows (after a stage date was corrected)."""
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead_stage_history h
                      SET duration_days = %(duration)s
                     FROM (SELECT id,
                                  lead(date_stage) OVER (
                                      PARTITION BY lead_id, merged_lead_id
                                      ORDER BY date_enter, id
                                  ) AS next_day
                             FROM crm_lead_stage_history
                            WHERE lead_id = ANY(%(lead_ids)s)) n
                    WHERE n.id = h.id AND h.date_leave IS NOT NULL
                      AND h.left_change IS DISTINCT FROM 'merge'
                      AND h.duration_days IS DISTINCT FROM %(duration)s""",
                duration=duration_sql(SQL("h.date_stage"), SQL("n.next_day")),
                lead_ids=leads.ids,
            )
        )
        self.invalidate_model(["duration_days"])

    @api.model
    def _check_dates(self, leads):
        """Stage dates never go backwards: no stage's date is before the date
        of the stage the opportunity came from."""
        self.env.cr.execute(
            """SELECT h.lead_id, h.date_stage, p.date_stage
                 FROM crm_lead_stage_history h
                 JOIN LATERAL (
                      SELECT date_stage FROM crm_lead_stage_history p
                       WHERE p.lead_id = h.lead_id
                         AND p.merged_lead_id IS NOT DISTINCT FROM h.merged_lead_id
                         AND p.stage_id IS DISTINCT FROM h.stage_id
                         AND (p.date_enter, p.id) < (h.date_enter, h.id)
                       ORDER BY p.date_enter DESC, p.id DESC LIMIT 1) p ON true
                WHERE h.lead_id = ANY(%s) AND h.date_stage < p.date_stage
                LIMIT 1""",
            [leads.ids],
        )
        row = self.env.cr.fetchone()
        if row:
            lead = leads.browse(row[0])
            raise ValidationError(
                self.env._(
                    "The stage date of %(lead)s (%(date)s) cannot be earlier than "
                    "the date of its previous stage (%(previous)s).",
                    lead=lead.name,
                    date=tools.format_date(self.env, row[1]),
                    previous=tools.format_date(self.env, row[2]),
                )
            )

    @api.model
    def _backfill(self):
        """Fill the stage history of the opportunities that have none from
        the chatter's tracking of ``stage_id`` (``mail.tracking.value``),
        batch by batch, so that an opportunity created a year ago shows its
        real past stages and dates (the install). Opportunities without
        tracking get one row for their current stage. Returns how many
        opportunities were filled."""
        field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model()
        # batches of opportunity ids read one at a time (keyset), so that
        # memory stays flat whatever the number of opportunities
        missing = SQL(
            """NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h
                            WHERE h.lead_id = crm_lead.id)"""
        )
        self.env.cr.execute(SQL("SELECT count(*) FROM crm_lead WHERE %s", missing))
        progress = Progress(
            "sales_funnel_pl: stage history", self.env.cr.fetchone()[0], "opportunities"
        )
        skipped = self._insert_skipped_stages_sql(SQL("inserted"), past=True)
        tz = user_tz(self.env)
        last_id = 0
        tables = [self._table, "crm_lead_stage_history_skip"]
        with (
            # each batch's statement is estimated past PostgreSQL's JIT
            # threshold at a million: compiled for longer than it runs
            jit_disabled(self.env.cr),
            foreign_keys_checked_after(self.env.cr, tables),
            # kept: the rows' index in their order, which the load reads
            # (which opportunities have no history yet, the stage
            # analysis' insert trigger)
            indexes_built_after(
                self.env.cr, tables, keep=["crm_lead_stage_history_lead_order_idx"]
            ),
        ):
            while True:
                self.env.cr.execute(
                    SQL(
                        """SELECT id FROM crm_lead WHERE id > %s AND %s
                            ORDER BY id LIMIT %s""",
                        last_id,
                        missing,
                        BACKFILL_BATCH,
                    )
                )
                batch = [row[0] for row in self.env.cr.fetchall()]
                if not batch:
                    break
                last_id = batch[-1]
                self.env.cr.execute(
                    SQL(
                        BACKFILL_SQL,
                        field_id=field.id,
                        lead_ids=batch,
                        skipped=skipped,
                        tz=tz,
                        moved_on=moved_on_sql(SQL("o.left_change"), "s", "ns"),
                        duration=duration_sql(SQL("o.day"), SQL("o.next_day")),
                        won=won_sql("l", "ls"),
                        entry=report_entry_sql("r"),
                    )
                )
                progress.advance(len(batch))
        progress.finish()
        self.invalidate_model()
        # the stage analysis' sums, written batch by batch, in one row per key
        self.env["sales.funnel.stage.rollup"]._compact()
        # fresh statistics, so that the reports' first reads are planned well
        self.env.cr.execute(
            """ANALYZE crm_lead_stage_history, crm_lead_stage_history_skip,
                       sales_funnel_stage_rollup"""
        )
        return progress.done

    def _compute_skipped_stage_ids(self):
        skips = (
            self.env["crm.lead.stage.history.skip"]
            .sudo()
            ._read_group(
                [("history_id", "in", self.ids)], ["history_id"], ["stage_id:array_agg"]
            )
        )
        stage_ids = {history.id: ids for history, ids in skips}
        Stage = self.env["crm.stage"]
        for row in self:
            row.skipped_stage_ids = Stage.browse(stage_ids.get(row.id, [])).sorted()

    def _compute_is_manager(self):
        self.is_manager = self.env.user.has_group("sales_team.group_sale_manager")

    @api.constrains("date_stage", "date_enter")
    def _check_date_stage(self):
        today = fields.Date.context_today(self)
        for row in self:
            if row.date_stage and row.date_stage > today:
                raise ValidationError(
                    self.env._("The stage date cannot be in the future.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The stage history is written by the opportunities themselves; "
                    "it cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if set(vals) - {"date_stage"}:
                raise AccessError(
                    self.env._(
                        "Only the stage date of a stage history row can be changed."
                    )
                )
            if not self.env.user.has_group("sales_team.group_sale_manager"):
                raise AccessError(
                    self.env._(
                        "Only a sales manager can change a stage date in the history."
                    )
                )
        result = super().write(vals)
        if "date_stage" in vals and not self.env.context.get(
            "sales_funnel_history_sync"
        ):
            leads = self.lead_id
            # the open row's date is the opportunity's stage date
            for row in self.filtered(
                lambda row: not row.date_leave
                and row.change_type not in ("lost", "restore")
            ):
                row.lead_id.with_context(sales_funnel_history_sync=True).write(
                    {"date_stage": row.date_stage}
                )
            self.flush_recordset(["date_stage"])
            self._recompute_durations(leads)
            self._check_dates(leads)
        return result

    # pylint: disable=method-required-super
    def unlink(self):
        """Refused, whoever asks: a row goes away with its opportunity only
        (ondelete="cascade" in the database), so no ``super()``."""
        raise UserError(
            self.env._(
                "The stage history cannot be deleted; "
                "it goes away with its opportunity."
            )
        )


class CrmLeadStageHistorySkip(models.Model):
    """A stage that a history row's move skipped, with the columns the stage
    analysis filters and groups on, so that it reads skipped stages without
    going through the history again. Written with its history row, in SQL."""

    _name = "crm.lead.stage.history.skip"
    _description = "Opportunity Stage Skipped"
    _log_access = False
    _order = "id"

    history_id = fields.Many2one(
        "crm.lead.stage.history",
        string="Stage History",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Skipped Stage",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    # indexed: an opportunity's skipped stages are found through it when it
    # is deleted (the cascade), merged or moved to another company (the
    # history's company trigger). Without it, each of those read the whole
    # table for each opportunity (at 100,000 opportunities with 436,000
    # skipped stages, 2.1 s to delete 100 of them, 2.9 s to move 100 to
    # another company, against 0.09 and 0.1 s with it)
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="set null", readonly=True
    )
    salesperson_id = fields.Many2one(
        "res.users", string="Salesperson", ondelete="set null", readonly=True
    )
    company_id = fields.Many2one(related="lead_id.company_id", string="Company")
    report_company_id = fields.Many2one(
        "res.company", string="Company (analysis)", readonly=True
    )
    date_enter = fields.Datetime(string="Moved", readonly=True, index=True)

    def init(self):
        # the stage analysis' sums, kept by the database with the rows of
        # both tables (made by now: this model comes after the history)
        self.env["sales.funnel.stage.rollup"]._create_triggers()
