# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import MissingError, ValidationError
from odoo.tools import SQL, sql

from .. import compat
from ..utils import PROCESS_END_MONTH, user_tz

_logger = logging.getLogger(__name__)

# the process columns, filled from what Odoo recorded when they are created
PROCESS_COLUMNS = {
    "date_stage": "date",
    "date_process_start": "date",
    "date_process_end": "date",
    "process_start_user_id": "int4",
}


class CrmLead(models.Model):
    """The opportunity of the sales funnel. Its concerns, one file each:

    - here: the process (stage date, process start and end, who worked on
      it), create and write, the checks and the actions;
    - ``crm_lead_write_plan.py``: what a write does to each opportunity
      (its transition: enters a stage, won, lost, restored, mapped) and the
      groups of records written together;
    - ``crm_lead_probability.py``: the probability policy behind the one
      "does the funnel apply here" rule, predictive lead scoring;
    - ``crm_lead_next_action.py``: next actions as activities, what winning
      does to them, the daily reminders;
    - ``crm_lead_stuck.py``: opportunities stuck in their stage ("Utknęła
      w etapie");
    - ``crm_lead_stage_reached.py``: how far each opportunity got;
    - ``crm_lead_funnel_fill.py``: every stage in the funnel report;
    - ``crm_lead_stage_history.py`` (the history model): the history rows,
      written by the history itself from the events of a write.
    """

    _inherit = "crm.lead"

    date_stage = fields.Date(
        string="Stage Date",
        default=fields.Date.context_today,
        copy=False,
        tracking=True,
        help="The date on which the current stage took place. Set to today at "
        "each stage change; it may be backdated.",
    )
    # indexed: the funnel board reads the processes started (its cohort) and
    # ended (won, lost) in its period
    date_process_start = fields.Date(
        string="Process Start",
        default=fields.Date.context_today,
        copy=False,
        index=True,
    )
    date_process_end = fields.Date(
        string="Process End", copy=False, readonly=True, index="btree_not_null"
    )
    process_start_user_id = fields.Many2one(
        "res.users",
        string="Started by",
        default=lambda self: self.env.user,
        copy=False,
        readonly=True,
    )
    process_end_user_id = fields.Many2one(
        "res.users", string="Closed by", copy=False, readonly=True
    )
    process_user_ids = fields.Many2many(
        "res.users",
        "crm_lead_process_user_rel",
        "lead_id",
        "user_id",
        string="Worked on by",
        copy=False,
        readonly=True,
        help="Everyone who changed the stage of this opportunity or completed "
        "one of its activities.",
    )
    stage_history_ids = fields.One2many(
        "crm.lead.stage.history", "lead_id", string="Stage History", readonly=True
    )
    stage_history_count = fields.Integer(compute="_compute_stage_history_count")
    origin_lead_id = fields.Many2one(
        "crm.lead",
        string="Grew from",
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The won opportunity this one grew out of.",
    )
    follow_up_lead_ids = fields.One2many(
        "crm.lead", "origin_lead_id", string="Follow-up Opportunities"
    )

    def init(self):
        # the open opportunities (see compat.OPEN_LEAD_INDEX), which the
        # board's and the forecast's reads of the open pipeline find through
        # it instead of reading the closed opportunities of every past year
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_lead_funnel_open_idx ON crm_lead %s",
                SQL(compat.OPEN_LEAD_INDEX),
            )
        )
        # the month each process ended: "Prognoza a wykonanie" reads the won
        # sales of its months through it
        self.env.cr.execute(
            SQL(
                """CREATE INDEX IF NOT EXISTS crm_lead_funnel_end_month_idx
                   ON crm_lead ((%s))
                   WHERE date_process_end IS NOT NULL AND type = 'opportunity'""",
                SQL(PROCESS_END_MONTH.format(lead="crm_lead")),
            )
        )
        # those whose process never ended (open, or won before the addon
        # recorded process ends): what the reports' won sales without a
        # process end are looked for in
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS crm_lead_funnel_unended_idx ON crm_lead %s",
                SQL(compat.UNENDED_LEAD_INDEX),
            )
        )

    def _auto_init(self):
        """On install, the process columns of existing opportunities are
        created and filled in one statement from what Odoo already recorded
        (``_fill_process_dates``), not filled with today's date and the
        installing user first: each default Odoo writes into a new column
        rewrites every opportunity (at a million, minutes each)."""
        cr = self.env.cr
        if not sql.column_exists(cr, "crm_lead", "date_process_start"):
            for name, column_type in PROCESS_COLUMNS.items():
                if not sql.column_exists(cr, "crm_lead", name):
                    sql.create_column(cr, "crm_lead", name, column_type)
            self._fill_process_dates()
            # the install's hook fills those created since (demo data)
            cr.execute("SELECT COALESCE(max(id), 0) FROM crm_lead")
            self.pool.sales_funnel_pl_process_filled = cr.fetchone()[0]
        return super()._auto_init()

    @api.model
    def _fill_process_dates(self, after_id=0):
        """Existing opportunities (those after the id ``after_id``): their
        stage date, process start and end and who started it, from what Odoo
        already recorded (the local days of the user who created the
        opportunity)."""
        self.env.cr.execute(
            SQL(
                """
            WITH local AS (
                SELECT l.id, COALESCE(p.tz, %(tz)s) AS tz,
                       -- won or lost: the one rule of compat.py, never a
                       -- typed probability of an open opportunity
                       COALESCE(%(won)s OR %(lost)s, false) AS closed
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                  LEFT JOIN res_users u ON u.id = l.create_uid
                  LEFT JOIN res_partner p ON p.id = u.partner_id
                 WHERE l.id > %(after)s
            )
            UPDATE crm_lead l
               SET date_stage = (COALESCE(l.date_last_stage_update, l.create_date)
                                 AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date,
                   date_process_start = (l.create_date
                                         AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date,
                   process_start_user_id = l.create_uid,
                   date_process_end = CASE WHEN t.closed
                       THEN (COALESCE(l.date_closed, l.write_date)
                             AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date END
              FROM local t
             WHERE t.id = l.id AND l.id > %(after)s
                """,
                after=after_id,
                tz=user_tz(self.env),
                won=compat.lead_won_sql("l", "s"),
                lost=compat.lead_lost_sql("l"),
            )
        )
        _logger.info(
            "sales_funnel_pl: process dates set on %s opportunities",
            self.env.cr.rowcount,
        )
        self.invalidate_model()

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    def _compute_stage_history_count(self):
        counts = dict(
            self.env["crm.lead.stage.history"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.stage_history_count = counts.get(lead._origin, 0)

    # ------------------------------------------------------------
    # CONSTRAINTS AND ONCHANGES
    # ------------------------------------------------------------

    @api.constrains("date_stage", "date_process_start")
    def _check_date_stage(self):
        for lead in self:
            if (
                lead.date_stage
                and lead.date_process_start
                and lead.date_stage < lead.date_process_start
            ):
                raise ValidationError(
                    self.env._(
                        "The stage date of %(lead)s cannot be before the start of "
                        "its sales process (%(start)s).",
                        lead=lead.name,
                        start=lead.date_process_start,
                    )
                )

    def _check_date_stage_typed(self, vals):
        """A stage date typed by the writer is never after their today. The
        dates the addon sets itself (a move: never before the previous
        stage's date, which a writer in a time zone behind may not have
        reached yet) are not checked here."""
        if not vals.get("date_stage"):
            return
        if fields.Date.to_date(vals["date_stage"]) > fields.Date.context_today(self):
            raise ValidationError(
                self.env._(
                    "The stage date of %(lead)s cannot be in the future.",
                    lead=", ".join(self.mapped("name")) or vals.get("name", ""),
                )
            )

    @api.constrains("expected_revenue")
    def _check_expected_revenue(self):
        for lead in self:
            if lead.expected_revenue < 0:
                raise ValidationError(
                    self.env._(
                        "The expected revenue of %(lead)s cannot be negative.",
                        lead=lead.name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_stage_value(vals)
            self.browse()._check_date_stage_typed(vals)
        stage_ids = {vals["stage_id"] for vals in vals_list if vals.get("stage_id")}
        stages = self.env["crm.stage"].browse(stage_ids)
        today = fields.Date.context_today(self)
        in_funnel = self._sales_funnel_of_vals(vals_list)
        for vals, funnel in zip(vals_list, in_funnel, strict=True):
            stage = stages.browse(vals.get("stage_id"))
            if funnel and "probability" not in vals:
                vals["probability"] = stage.probability
            if stage.active:
                vals["stage_reached_id"] = stage.id
            if stage.is_won and vals.get("active", True):
                # created won: its process starts and ends today
                vals.setdefault("date_process_end", today)
                vals.setdefault("process_end_user_id", self.env.uid)
        leads = super().create(vals_list)
        # opportunities created without a stage get the one Odoo computes
        # for their team: set that stage's probability now (in the funnel)
        leads_without_stage = leads.browse(
            lead.id
            for lead, vals in zip(leads, vals_list, strict=True)
            if "stage_id" not in vals and "probability" not in vals
        ).filtered("stage_id")
        leads_without_stage._apply_stage_probability()
        # and how far they got: that stage (written with the probability)
        computed_stage = leads.browse(
            lead.id
            for lead, vals in zip(leads, vals_list, strict=True)
            if "stage_id" not in vals
        )
        for stage, group in computed_stage.grouped("stage_id").items():
            if stage.active:
                super(CrmLead, group).write({"stage_reached_id": stage.id})
        self.env["crm.lead.stage.history"]._log(
            leads, {lead.id: (False, "create") for lead in leads if lead.stage_id}
        )
        return leads

    def write(self, vals):
        """Each opportunity gets what its own transition asks for (see
        ``crm_lead_write_plan.py``): what the caller wrote is written once,
        and opportunities sharing a transition get its values together, so
        that the number of queries does not grow with the batch."""
        self._check_stage_value(vals)
        self._check_date_stage_typed(vals)
        History = self.env["crm.lead.stage.history"]
        # the closing date, revenue and probability before, of the
        # opportunities whose values the write may change (else nothing
        # read, nothing recorded)
        Changes = self.env["crm.lead.value.change"]
        watched = Changes._watched(self, vals)
        before = Changes._values(watched) if watched else None
        if not {"stage_id", "active", "type"} & set(vals):
            result = super().write(vals)
            if before is not None:
                Changes._record(Changes._rows(watched, before))
            if "date_stage" in vals:
                History._sync_date_stage(self)
            return result
        plan = self._write_plan(vals)
        if plan.scored:
            # what crm's scoring reads of each, for the caller's records at once
            self._pls_prefetch()
        plan.apply(self, lambda leads, values: super(CrmLead, leads).write(values))
        value_changes = Changes._rows(watched, before) if before is not None else []
        if plan.events:
            # recorded with the stage history, in its statement
            History._log(
                self,
                plan.events,
                check_dates="date_stage" in vals,
                value_changes=value_changes,
            )
        else:
            Changes._record(value_changes)
        changed = {kind: [] for kind in ("won", "lost")}
        for lead_id, (_previous, kind) in plan.events.items():
            if kind in changed:
                changed[kind].append(lead_id)
        self.browse(changed["won"])._on_won()
        if compat.ARCHIVING_KEEPS_ACTIVITIES:
            self.browse(changed["lost"])._close_pre_sale_activities("lost")
        if "date_stage" in vals:
            History._sync_date_stage(
                self.filtered(lambda lead: lead.id not in plan.events)
            )
        return True

    def _check_stage_value(self, vals):
        """Refuse, with a clear error, a stage that is not an existing stage id."""
        stage_id = vals.get("stage_id")
        if not stage_id:
            return
        if not isinstance(stage_id, int) or isinstance(stage_id, bool):
            raise ValidationError(
                self.env._(
                    "A stage is given by its id (a whole number), not %(value)s.",
                    value=repr(stage_id),
                )
            )
        try:
            # loads the stage, which the write reads anyway, with the stages
            # the opportunities leave, which the write reads too (whether
            # they were won: the write plan, crm's won and lost counts): one
            # query
            prefetch = tuple({stage_id, *self.stage_id.ids})
            self.env["crm.stage"].browse(stage_id).with_prefetch(prefetch).mapped(
                "probability"
            )
        except MissingError:
            raise ValidationError(
                self.env._("The stage %(stage)s does not exist.", stage=stage_id)
            ) from None

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_stage_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel_pl.crm_lead_stage_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"default_lead_id": self.id}
        return action

    def action_new_follow_up_opportunity(self):
        """A new contract with the same customer is a new opportunity."""
        self.ensure_one()
        first_stage = (
            self.env["crm.stage"]
            .search(compat.stage_team_domain(self.team_id.id))
            ._sorted_in_order()[:1]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Opportunity"),
            "res_model": "crm.lead",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {
                "default_type": "opportunity",
                "default_partner_id": self.partner_id.id,
                "default_team_id": self.team_id.id,
                "default_user_id": self.user_id.id or self.env.uid,
                "default_stage_id": first_stage.id,
                "default_origin_lead_id": self.id,
                "default_name": self.partner_id.display_name or self.name,
            },
        }

    if compat.ODOO_19:

        def action_restore(self):
            """19.0's "Restore" button: crm would set the probability to
            predictive lead scoring's; restored here, an opportunity takes its
            stage's % again (``write`` does it), as on 18.0."""
            self.action_unarchive()
            return True
