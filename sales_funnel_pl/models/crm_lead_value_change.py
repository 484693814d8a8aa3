# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the forecast is made of, change by change: the expected closing
date, the expected revenue and the probability of an opportunity, before
and after each write that changed one of them.

Why a model of its own (and not crm's tracking or the stage history): crm's
mail tracking writes one message per record and one value per field (a
batch of a thousand is a thousand messages), does not track the closing
date nor the probability, and is not indexed for a report over a period;
the stage history has one row per stay in a stage, so that a revenue or a
closing date typed inside a stage has no row there."""

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .. import compat
from ..report.sql import (
    currency_rates_sql,
    lead_company_sql,
    lead_values_at_sql,
    slipped_sql,
)

# the opportunity's fields the forecast is made of, in the rows' order
VALUE_FIELDS = ("date_deadline", "expected_revenue", "probability")

# the largest slips a message names
LARGEST_SLIPS = 5

# the first moment rows were recorded (UTC, the table's creation): before
# it, an opportunity's values are not known from this table
RECORDING_START_PARAM = "sales_funnel_pl.value_changes_since"


class CrmLeadValueChange(models.Model):
    """One row per opportunity and write that changed its expected closing
    date, expected revenue or probability, with all three before and after
    (the unchanged ones too), so that the values right before and right
    after any row are known. Rows are facts: written by the opportunity's
    write in SQL (one statement per write, whatever the batch), never
    created, changed or deleted by hand; they go away with their
    opportunity."""

    _name = "crm.lead.value.change"
    _description = "Opportunity Value Change"
    # the date and the writer are the row's own fields: no create_uid,
    # create_date, write_uid, write_date (a row is never written again)
    _log_access = False
    _order = "date desc, id desc"
    _rec_name = "lead_id"

    # indexed with the date (see init): its first column serves the
    # opportunity's own lookups and the cascade of its deletion
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    date = fields.Datetime(
        string="Changed on",
        required=True,
        index=True,
        readonly=True,
        help="When the change was written (the transaction's time).",
    )
    user_id = fields.Many2one(
        "res.users", string="Changed by", readonly=True, ondelete="set null"
    )
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        readonly=True,
        ondelete="cascade",
        help="The opportunity's company when the change was written: the "
        "amounts are in its currency.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    old_date_deadline = fields.Date(string="Expected Closing Before", readonly=True)
    new_date_deadline = fields.Date(string="Expected Closing After", readonly=True)
    old_expected_revenue = fields.Monetary(
        string="Expected Revenue Before", currency_field="currency_id", readonly=True
    )
    new_expected_revenue = fields.Monetary(
        string="Expected Revenue After", currency_field="currency_id", readonly=True
    )
    old_probability = fields.Float(string="Probability Before", readonly=True)
    new_probability = fields.Float(string="Probability After", readonly=True)

    def init(self):
        # an opportunity's changes in their order: the values at a moment
        # (``lead_values_at_sql``) are one lookup per opportunity
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_lead_value_change_lead_date_idx
               ON crm_lead_value_change (lead_id, date)"""
        )
        # from when the rows tell the values (set once, at the table's creation)
        self.env.cr.execute(
            """INSERT INTO ir_config_parameter (key, value, create_date, write_date)
               VALUES (%s, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (key) DO NOTHING""",
            [RECORDING_START_PARAM],
        )

    # ------------------------------------------------------------
    # CRUD: rows are facts
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The changes of an opportunity are recorded by the opportunity "
                    "itself; they cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            raise AccessError(
                self.env._("A recorded change of an opportunity cannot be changed.")
            )
        return super().write(vals)

    # ------------------------------------------------------------
    # RECORDING: called by crm.lead's write
    # ------------------------------------------------------------

    @api.model
    def _watched(self, leads, vals):
        """The opportunities among ``leads`` whose values writing ``vals``
        may change, to read before and after the write.

        A write may change them when one of them is written, the stage, the
        state or the type (a move, a win, a loss, a conversion), or a field
        whose change makes Odoo compute one of them again on the same
        records (the stage, the team, the salesperson, what crm's scoring
        reads: the probability outside the funnel): decided on the field
        names, with no query for a write that cannot change them.

        Only opportunities: a lead's values are no pipeline's (its
        conversion starts them). And when the write changes them only by
        Odoo's computation, not the opportunities whose values are still to
        be computed from an earlier change of the same transaction that
        recorded nothing (their creation or conversion, which starts their
        values): reading their values before the write would compute them
        one opportunity at a time (crm's assignment converts and assigns its
        leads so), not the batch at once, and what this write changes is
        part of that start."""
        if not leads or not vals:
            return leads.browse()
        written = set(vals)
        if written & {*VALUE_FIELDS, "stage_id", "active", "type"}:
            # what the write does to each may set its probability
            # (crm_lead_write_plan.py: a stage's %, 0% when lost)
            return leads.filtered(lambda lead: lead.type == "opportunity")
        fields_ = [leads._fields[name] for name in vals if name in leads._fields]
        triggered = self.pool.get_trigger_tree(fields_).root
        recomputed = [
            field
            for field in map(leads._fields.get, VALUE_FIELDS)
            if field in triggered
        ]
        if not recomputed:
            return leads.browse()
        starting = {
            record_id
            for field in recomputed
            for record_id in self.env.records_to_compute(field)._ids
        }
        return leads.filtered(
            lambda lead: lead.id not in starting and lead.type == "opportunity"
        )

    @api.model
    def _values(self, leads):
        """{lead id: (closing date, revenue, probability)} of ``leads``, as
        the record cache holds them (read once for the batch if not)."""
        return {
            lead.id: tuple(lead[name] for name in VALUE_FIELDS)
            for lead in leads.with_prefetch(leads._prefetch_ids)
        }

    @api.model
    def _rows(self, leads, before):
        """The rows of the opportunities among ``leads`` whose values changed
        since ``before`` (``_values``, taken before the write): one tuple of
        (lead id, company id, old and new of the three) each."""
        after = self._values(leads)
        changed = [lead for lead in leads if after[lead.id] != before.get(lead.id)]
        return [
            (
                lead.id,
                lead.company_id.id or None,
                *(
                    value
                    for old, new in zip(before[lead.id], after[lead.id], strict=True)
                    for value in (old, new)
                ),
            )
            for lead in changed
            if lead.id in before
        ]

    @api.model
    def _insert_sql(self, rows):
        """SQL inserting ``rows`` (see ``_rows``), dated now, by the current
        user: one statement whatever their number (a statement of its own,
        or a part of the stage history's, see ``crm.lead.write``)."""
        columns = list(zip(*rows, strict=True))
        return SQL(
            """INSERT INTO crm_lead_value_change (
                   lead_id, date, user_id, company_id,
                   old_date_deadline, new_date_deadline,
                   old_expected_revenue, new_expected_revenue,
                   old_probability, new_probability)
               SELECT r.lead_id, %(now)s, %(uid)s, r.company_id, r.old_deadline,
                      r.new_deadline, r.old_revenue, r.new_revenue, r.old_probability,
                      r.new_probability
                 FROM unnest(%(lead_ids)s::integer[], %(company_ids)s::integer[],
                             %(old_deadlines)s::date[], %(new_deadlines)s::date[],
                             %(old_revenues)s::numeric[], %(new_revenues)s::numeric[],
                             %(old_probabilities)s::float8[],
                             %(new_probabilities)s::float8[])
                   AS r(lead_id, company_id, old_deadline, new_deadline, old_revenue,
                        new_revenue, old_probability, new_probability)""",
            now=self.env.cr.now(),
            uid=self.env.uid,
            lead_ids=list(columns[0]),
            company_ids=list(columns[1]),
            old_deadlines=[value or None for value in columns[2]],
            new_deadlines=[value or None for value in columns[3]],
            old_revenues=list(columns[4]),
            new_revenues=list(columns[5]),
            old_probabilities=list(columns[6]),
            new_probabilities=list(columns[7]),
        )

    @api.model
    def _record(self, rows):
        """Insert ``rows`` (see ``_rows``) in one statement."""
        if rows:
            self.env.cr.execute(self._insert_sql(rows))
            self.invalidate_model()

    # ------------------------------------------------------------
    # READING: what changed in a period (the messages)
    # ------------------------------------------------------------

    @api.model
    def _period_summary(self, leads_condition, since, until):
        """What happened between ``since`` and ``until`` (UTC datetimes) to
        the opportunities matching ``leads_condition`` (SQL on ``crm_lead``
        aliased ``l``: a salesperson's, a team's), in the currency of the
        current company (today's rates, as the reports convert):

        - ``new``, ``won``, ``lost``: (count, amount): created in the period
          (their revenue at its end), won or lost in it (the stage history's
          moves, their revenue then);
        - ``raised``, ``lowered``: (count, amount) of the open ones whose
          revenue ended the period higher or lower than it started, the
          amount being the difference;
        - ``slipped``: (count, amount) of the open ones whose closing date
          ended the period in a later month than it started (``slipped_sql``:
          the first change's old date against the last one's new date),
          the amount their revenue;
        - ``slips``: the largest of these, by revenue (``LARGEST_SLIPS``):
          (opportunity, old closing date, new closing date, revenue).

        Read in SQL, whoever asks (callers restrict ``leads_condition``):
        two statements."""
        self.env["crm.lead"].flush_model()
        self.flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        cr = self.env.cr
        company = lead_company_sql(self.env, "l")
        params = {
            "rates": currency_rates_sql(self.env),
            "leads": leads_condition,
            "company": company,
            "since": since,
            "until": until,
        }
        cr.execute(
            SQL(
                """
            WITH %(rates)s
            SELECT 'new', count(*), COALESCE(SUM(v.expected_revenue * r.rate), 0)
              FROM crm_lead l
              CROSS JOIN LATERAL %(values)s AS v
              JOIN rates r ON r.company_id = %(company)s
             WHERE %(leads)s AND l.type = 'opportunity'
               AND l.create_date >= %(since)s AND l.create_date < %(until)s
            UNION ALL
            SELECT h.change_type, count(*),
                   COALESCE(SUM(h.expected_revenue * r.rate), 0)
              FROM (SELECT DISTINCT ON (h.lead_id, h.change_type) h.*
                      FROM crm_lead_stage_history h
                     WHERE h.change_type IN ('won', 'lost')
                       AND h.date_enter >= %(since)s AND h.date_enter < %(until)s
                     ORDER BY h.lead_id, h.change_type, h.date_enter DESC, h.id DESC
                   ) h
              JOIN crm_lead l ON l.id = h.lead_id
              JOIN rates r ON r.company_id = %(company)s
             WHERE %(leads)s AND l.type = 'opportunity'
             GROUP BY h.change_type
                """,
                values=lead_values_at_sql("l", SQL("%s::timestamp", until)),
                **params,
            )
        )
        summary = {kind: (0, 0.0) for kind in ("new", "won", "lost")}
        summary.update(
            {kind: (count, float(amount)) for kind, count, amount in cr.fetchall()}
        )
        cr.execute(
            SQL(
                """
            WITH %(rates)s, period AS (
                SELECT c.lead_id,
                       (array_agg(c.old_date_deadline ORDER BY c.date, c.id))[1]
                           AS old_date_deadline,
                       (array_agg(c.new_date_deadline
                                  ORDER BY c.date DESC, c.id DESC))[1]
                           AS new_date_deadline,
                       (array_agg(c.old_expected_revenue ORDER BY c.date, c.id))[1]
                           AS old_expected_revenue,
                       (array_agg(c.new_expected_revenue
                                  ORDER BY c.date DESC, c.id DESC))[1]
                           AS new_expected_revenue
                  FROM crm_lead_value_change c
                 WHERE c.date >= %(since)s AND c.date < %(until)s
                 GROUP BY c.lead_id
            )
            SELECT p.lead_id, p.old_date_deadline, p.new_date_deadline,
                   p.old_expected_revenue * r.rate, p.new_expected_revenue * r.rate,
                   %(slipped)s
              FROM period p
              JOIN crm_lead l ON l.id = p.lead_id
              LEFT JOIN crm_stage s ON s.id = l.stage_id
              JOIN rates r ON r.company_id = %(company)s
             WHERE %(leads)s AND %(open)s
             ORDER BY p.new_expected_revenue * r.rate DESC, p.lead_id
                """,
                slipped=slipped_sql("p"),
                open=compat.open_lead_sql("l", "s"),
                **params,
            )
        )
        raised, lowered, slipped = [0, 0.0], [0, 0.0], [0, 0.0]
        slips = []
        for lead_id, old_day, new_day, old_amount, new_amount, slip in cr.fetchall():
            difference = float(new_amount - old_amount)
            if difference > 0:
                raised[0] += 1
                raised[1] += difference
            elif difference < 0:
                lowered[0] += 1
                lowered[1] -= difference
            if slip:
                slipped[0] += 1
                slipped[1] += float(new_amount)
                if len(slips) < LARGEST_SLIPS:
                    slips.append((lead_id, old_day, new_day, float(new_amount)))
        leads = self.env["crm.lead"].browse(slip[0] for slip in slips)
        summary.update(
            raised=tuple(raised),
            lowered=tuple(lowered),
            slipped=tuple(slipped),
            slips=[(lead, *slip[1:]) for lead, slip in zip(leads, slips, strict=True)],
        )
        return summary

    @api.model
    def _summary_items(self, summary):
        """The counts and amounts of ``summary`` (``_period_summary``) as
        short texts in the current language, those that are not zero:
        "New: 2 (30 000,00 zł)"."""
        currency = self.env.company.currency_id
        _ = self.env._
        items = []
        for kind, text in (
            ("new", lambda **values: _("New: %(count)s (%(amount)s)", **values)),
            ("won", lambda **values: _("Won: %(count)s (%(amount)s)", **values)),
            ("lost", lambda **values: _("Lost: %(count)s (%(amount)s)", **values)),
            (
                "raised",
                lambda **values: _("Value raised: %(count)s (+%(amount)s)", **values),
            ),
            (
                "lowered",
                lambda **values: _("Value lowered: %(count)s (−%(amount)s)", **values),
            ),
            (
                "slipped",
                lambda **values: _(
                    "Slipped to a later month: %(count)s (%(amount)s)", **values
                ),
            ),
        ):
            count, amount = summary[kind]
            if count:
                items.append(
                    text(
                        count=count,
                        amount=tools.format_amount(self.env, amount, currency),
                    )
                )
        return items
