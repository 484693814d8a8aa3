# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models, tools
from odoo.exceptions import MissingError, ValidationError
from odoo.modules import module as odoo_module
from odoo.tools import SQL

from odoo.addons.crm.models.crm_lead import (
    PLS_COMPUTE_BATCH_STEP,
    PLS_UPDATE_BATCH_STEP,
)

from .. import compat

_logger = logging.getLogger(__name__)

NEXT_ACTION_MAX_LENGTH = 500
# precommit flag: the furthest stages wait for a recompute (stage order changed)
REACHED_PENDING = "sales_funnel_pl.stage_reached_pending"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    date_stage = fields.Date(
        string="Stage Date",
        default=fields.Date.context_today,
        copy=False,
        tracking=True,
        help="The date on which the current stage took place. Set to today at "
        "each stage change; it may be backdated.",
    )
    next_activity_id = fields.Many2one(
        "mail.activity",
        string="Next Action Activity",
        copy=False,
        compute="_compute_next_activity",
        store=True,
        index="btree_not_null",
        help="The earliest planned activity of the opportunity, of any type.",
    )
    next_action = fields.Char(
        compute="_compute_next_action",
        inverse="_inverse_next_action",
        help="What must be done next in this sale: the earliest planned activity "
        "(its summary, or its type). Writing it plans or moves that activity.",
    )
    next_action_date = fields.Date(
        string="Action Date",
        compute="_compute_next_activity",
        inverse="_inverse_next_action",
        store=True,
        index=True,
        help="The deadline of the next action (the earliest planned activity).",
    )
    next_action_state = fields.Selection(
        [
            ("overdue", "Overdue"),
            ("planned", "Planned"),
            ("missing", "Missing"),
            ("closed", "Closed"),
        ],
        string="Next Action Status",
        compute="_compute_next_action_state",
    )
    date_process_start = fields.Date(
        string="Process Start", default=fields.Date.context_today, copy=False
    )
    date_process_end = fields.Date(string="Process End", copy=False, readonly=True)
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
    stage_reached_id = fields.Many2one(
        "crm.stage",
        string="Furthest Stage",
        copy=False,
        readonly=True,
        ondelete="set null",
        help="The furthest active stage, in stage order, that this opportunity "
        "ever entered (from its stage history): how far it got. The funnel board "
        "reads it instead of going through the history.",
    )
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

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends(lambda self: ["stage_id", "team_id"] + self._pls_get_safe_fields())
    def _compute_probabilities(self):
        """Predictive lead scoring keeps computing ``automated_probability``
        but never changes ``probability``: the probability follows the stage
        (see ``create``/``write``) and whatever the user typed afterwards."""
        lead_probabilities = compat.pls_probabilities(self)
        for lead in self:
            if lead.id in lead_probabilities:
                lead.automated_probability = lead_probabilities[lead.id]
            if not lead.id and not lead._origin:
                # a new opportunity in a form: propose its stage's probability
                lead.probability = lead.stage_id.probability
            else:
                lead.probability = lead.probability

    @api.depends("activity_ids.date_deadline", "activity_ids.active")
    def _compute_next_activity(self):
        """The next action is the earliest planned activity, of any type, in
        the order Odoo shows activities (deadline, then creation)."""
        for lead in self:
            activities = lead.activity_ids.filtered("active")
            activity = min(
                activities, key=lambda act: (act.date_deadline, act.id), default=None
            )
            lead.next_activity_id = activity
            lead.next_action_date = activity.date_deadline if activity else False

    @api.depends("next_activity_id.summary", "next_activity_id.activity_type_id")
    def _compute_next_action(self):
        for lead in self:
            activity = lead.next_activity_id
            lead.next_action = (
                activity.summary or activity.activity_type_id.name
                if activity
                else False
            )

    def _inverse_next_action(self):
        """Writing the next action plans or moves the earliest activity; a
        To-Do is planned when there is none. Only what the user changed is
        written: a date alone never becomes the activity's summary."""
        todo_type = self.env.ref(
            "mail.mail_activity_data_todo", raise_if_not_found=False
        )
        today = fields.Date.context_today(self)
        to_cancel = self.env["mail.activity"]
        for lead in self:
            if lead.next_action and len(lead.next_action) > NEXT_ACTION_MAX_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The next action of %(lead)s is too long (%(length)s "
                        "characters): write it in at most %(max)s characters and "
                        "put the details in the notes.",
                        lead=lead.name,
                        length=len(lead.next_action),
                        max=NEXT_ACTION_MAX_LENGTH,
                    )
                )
            activity = lead.next_activity_id
            if not lead.next_action and not lead.next_action_date:
                to_cancel |= activity
                continue
            if activity:
                values = {}
                shown = activity.summary or activity.activity_type_id.name
                if lead.next_action and lead.next_action != shown:
                    values["summary"] = lead.next_action
                if (
                    lead.next_action_date
                    and lead.next_action_date != activity.date_deadline
                ):
                    values["date_deadline"] = lead.next_action_date
                if values:
                    activity.write(values)
            else:
                lead.activity_schedule(
                    activity_type_id=todo_type.id if todo_type else False,
                    summary=lead.next_action or False,
                    date_deadline=lead.next_action_date or today,
                    user_id=(lead.user_id or self.env.user).id,
                )
        if to_cancel:
            to_cancel.unlink()
        # the fields written are protected from recomputation while their
        # inverse runs: show the activity planned or moved now
        self.invalidate_recordset(["activity_ids", "next_action"])
        self._compute_next_activity()

    @api.depends("next_action_date", "probability", *compat.LEAD_CLOSED_DEPENDS)
    def _compute_next_action_state(self):
        today = fields.Date.context_today(self)
        for lead in self:
            if compat.lead_is_closed(lead):
                lead.next_action_state = "closed"
            elif not lead.next_action_date:
                lead.next_action_state = "missing"
            elif lead.next_action_date < today:
                lead.next_action_state = "overdue"
            else:
                lead.next_action_state = "planned"

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
        today = fields.Date.context_today(self)
        for lead in self:
            # the process start is its creator's day, which a writer in a
            # time zone behind it may not have reached yet
            latest = max(today, lead.date_process_start or today)
            if lead.date_stage and lead.date_stage > latest:
                raise ValidationError(
                    self.env._(
                        "The stage date of %(lead)s cannot be in the future.",
                        lead=lead.name,
                    )
                )
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

    @api.constrains("probability")
    def _check_probability(self):
        for lead in self:
            if not 0 <= lead.probability <= 100:
                raise ValidationError(
                    self.env._(
                        "The probability of %(lead)s must be between 0%% and 100%%.",
                        lead=lead.name,
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

    @api.onchange("stage_id")
    def _onchange_stage_id(self):
        for lead in self:
            if lead.stage_id and lead.stage_id != lead._origin.stage_id:
                lead.probability = lead.stage_id.probability
                lead.date_stage = fields.Date.context_today(self)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_stage_value(vals)
        stage_ids = {vals["stage_id"] for vals in vals_list if vals.get("stage_id")}
        stages = self.env["crm.stage"].browse(stage_ids)
        today = fields.Date.context_today(self)
        for vals in vals_list:
            stage = stages.browse(vals.get("stage_id"))
            if stage and "probability" not in vals:
                vals["probability"] = stage.probability
            if stage.active:
                vals["stage_reached_id"] = stage.id
            if stage.is_won and vals.get("active", True):
                # created won: its process starts and ends today
                vals.setdefault("date_process_end", today)
                vals.setdefault("process_end_user_id", self.env.uid)
        leads = super().create(vals_list)
        # opportunities created without a stage get the one Odoo computes
        # for their team: set that stage's probability now
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
        leads._stage_history_log(
            {lead.id: (False, "create") for lead in leads if lead.stage_id}
        )
        return leads

    def write(self, vals):
        """Each opportunity gets what its own transition asks for (see
        ``_stage_transitions``); opportunities sharing a transition are
        written together, so the number of queries does not grow with the
        batch."""
        self._check_stage_value(vals)
        if "stage_id" not in vals and "active" not in vals:
            result = super().write(vals)
            if "date_stage" in vals:
                self._stage_history_sync_date_stage()
            return result
        transitions = self._stage_transitions(vals)
        previous_stage = {lead.id: lead.stage_id.id for lead in self}
        groups = defaultdict(list)
        today = fields.Date.context_today(self)
        for lead in self:
            kind, process = transitions.get(lead.id, (None, None))
            key = self._transition_values(vals, lead, kind, process, today)
            groups[key].append(lead.id)
        for (keep_stage, extra), lead_ids in groups.items():
            lead_vals = dict(vals, **dict(extra))
            if not keep_stage:
                lead_vals.pop("stage_id", None)
            if lead_vals:
                super(CrmLead, self.browse(lead_ids)).write(lead_vals)
        events = {
            lead_id: (previous_stage[lead_id], kind)
            for lead_id, (kind, _process) in transitions.items()
        }
        self._stage_history_log(events, check_dates="date_stage" in vals)
        won = self.browse(
            lead_id
            for lead_id, (kind, _process) in transitions.items()
            if kind == "won"
        )
        won._close_pre_sale_activities()
        won._plan_after_sale_activity()
        if compat.ARCHIVING_KEEPS_ACTIVITIES:
            self.browse(
                lead_id
                for lead_id, (kind, _process) in transitions.items()
                if kind == "lost"
            )._close_pre_sale_activities()
        if "date_stage" in vals:
            staying = self.filtered(lambda lead: lead.id not in transitions)
            staying._stage_history_sync_date_stage()
        return True

    # ------------------------------------------------------------
    # FUNNEL FILL: every stage in the funnel's grouped reads
    # (context ``sales_funnel_fill_stages``). The web client of each series
    # reads through other methods: see "Grouped reads" in compat.py.
    # ------------------------------------------------------------

    if compat.ODOO_19:

        def _web_read_group_field_expand(self, groupby):
            """19.0: the funnel report (context ``sales_funnel_fill_stages``)
            shows every stage, with zeros where it is empty, in the list,
            graph and pivot views too: ``formatted_read_group`` and
            ``formatted_read_grouping_sets`` then expand ``stage_id`` with
            crm's own ``group_expand`` (``_read_group_stage_ids``), as they
            do for the kanban view."""
            field = super()._web_read_group_field_expand(groupby)
            if (
                field is None
                and tuple(groupby) == ("stage_id",)
                and self.env.context.get("sales_funnel_fill_stages")
            ):
                return self._fields["stage_id"]
            return field

        @api.model
        def _read_group_empty_value(self, spec):
            """19.0: the funnel's empty stages count zeros (Odoo gives no
            value to the measures of an expanded empty group)."""
            value = super()._read_group_empty_value(spec)
            if value is False and self.env.context.get("sales_funnel_fill_stages"):
                field = self._fields.get(spec.split(":")[0].split(".")[0])
                if field is not None and field.type in ("integer", "float", "monetary"):
                    return 0
            return value

    else:

        @api.model
        @api.readonly
        def read_group(
            self,
            domain,
            fields,
            groupby,
            offset=0,
            limit=None,
            orderby=False,
            lazy=True,
        ):
            """18.0: the funnel report (context ``sales_funnel_fill_stages``)
            shows every stage, with zeros where it is empty, also in the pivot
            and graph views, which group eagerly (Odoo fills empty groups in
            lazy mode only)."""
            result = super().read_group(
                domain,
                fields,
                groupby,
                offset=offset,
                limit=limit,
                orderby=orderby,
                lazy=lazy,
            )
            groupby = [groupby] if isinstance(groupby, str) else list(groupby)
            if (
                lazy
                and len(groupby) == 1
                or groupby != ["stage_id"]
                or not self.env.context.get("sales_funnel_fill_stages")
                or limit
            ):
                return result
            present = {row["stage_id"][0] for row in result if row["stage_id"]}
            # the stages crm's group_expand shows (_read_group_stage_ids), fetched
            # with their names in one query
            team_domain = compat.stage_team_domain(
                self.env.context.get("default_team_id")
            )
            Stage = self.env["crm.stage"]
            stages = Stage.search_fetch(
                compat.domain_or([[("id", "in", list(present))], team_domain]),
                ["name"],
                order=Stage._order,
            )
            measures = [
                spec.split(":")[0]
                for spec in fields
                if spec.split(":")[0] not in ("stage_id", "__count")
            ]
            rows = {
                row["stage_id"][0] if row["stage_id"] else False: row for row in result
            }
            filled = []
            for stage in stages:
                filled.append(
                    rows.pop(stage.id, None)
                    or {
                        "stage_id": (stage.id, stage.display_name),
                        "__count": 0,
                        **dict.fromkeys(measures, 0),
                        "__domain": compat.domain_and(
                            [domain, [("stage_id", "=", stage.id)]]
                        ),
                    }
                )
            return filled + list(rows.values())

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
            # the opportunities got furthest to, which a move compares it
            # with (``_transition_values``): one query
            prefetch = tuple({stage_id, *self.stage_reached_id.ids})
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
        first_stage = self.env["crm.stage"].search(
            compat.stage_team_domain(self.team_id.id),
            order="sequence, id",
            limit=1,
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

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    # super() here is write()'s, past this class's override (no history for
    # a probability): this method returns nothing
    def _apply_stage_probability(self):  # pylint: disable=missing-return
        """Set each opportunity's probability to its stage's, one write per stage."""
        for stage, leads in self.grouped("stage_id").items():
            if stage:
                super(CrmLead, leads.filtered("active")).write(
                    {"probability": stage.probability}
                )

    # ------------------------------------------------------------
    # TRANSITIONS: what a write does to each opportunity
    # ------------------------------------------------------------

    def _stage_transitions(self, vals):
        """{lead id: (change type, process)} for the opportunities that this
        write makes enter a stage, win, lose or come back.

        The change type is what the stage history records: ``stage``,
        ``won``, ``lost``, ``restore``, or ``map`` for a move made by the
        stage mapping (a migration, not a sale). ``process`` says what
        happens to the sales process: ``end``, ``reopen`` or None."""
        if "stage_id" not in vals and "active" not in vals:
            return {}
        new_stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if vals.get("stage_id")
            else None
        )
        mapping = self.env.context.get("sales_funnel_stage_mapping")
        transitions = {}
        for lead in self:
            if (
                "active" in vals
                and bool(vals["active"]) != lead.active
                and (new_stage is None or new_stage == lead.stage_id)
                and compat.archiving_keeps_won(lead, bool(vals["active"]))
            ):
                # 19.0: a won opportunity archived or unarchived stays won
                continue
            if "active" in vals and bool(vals["active"]) != lead.active:
                transitions[lead.id] = (
                    ("restore", "reopen") if vals["active"] else ("lost", "end")
                )
            elif new_stage is not None and lead.stage_id != new_stage:
                # a won process has ended; the open ones have no end date
                was_won = bool(lead.date_process_end)
                if not lead.active and new_stage.is_won and compat.WON_STAGE_RESTORES:
                    # 19.0: crm restores it, won (see compat.py)
                    process = "end"
                elif not lead.active:
                    # a lost opportunity moved stays lost: its process is over
                    process = None
                elif new_stage.is_won and not was_won:
                    process = "end"
                elif was_won and not new_stage.is_won:
                    process = "reopen"
                else:
                    process = None
                if mapping:
                    kind = "map"
                elif process == "end":
                    kind = "won"
                else:
                    kind = "stage"
                transitions[lead.id] = (kind, process)
        return transitions

    def _transition_values(self, vals, lead, kind, process, today):
        """(whether the write keeps ``stage_id``, extra values) for ``lead``:
        hashable, so that opportunities sharing them are written together.
        An opportunity already in the written stage is not written a stage
        at all: nothing of it changes."""
        extra = {}
        moves = "stage_id" in vals and lead.stage_id.id != (vals["stage_id"] or False)
        open_after = (lead.active and kind != "lost") or kind == "restore"
        if moves and vals["stage_id"]:
            # how far it got: the furthest active stage it entered
            extra["stage_reached_id"] = self._stage_further(
                lead.stage_reached_id, self.env["crm.stage"].browse(vals["stage_id"])
            ).id
        if moves and "date_stage" not in vals:
            # the writer's day, never before the process started: around
            # midnight a writer behind the creator's time zone is a day behind
            extra["date_stage"] = max(today, lead.date_process_start or today)
        if open_after and "probability" not in vals:
            if moves and vals["stage_id"]:
                stage = self.env["crm.stage"].browse(vals["stage_id"])
                extra["probability"] = stage.probability
                if not stage.is_won and "date_closed" not in vals and lead.date_closed:
                    # crm keeps the closing date when an opportunity leaves a
                    # won stage with a 0% probability in vals: clear it
                    extra["date_closed"] = False
            elif kind == "restore":
                extra["probability"] = lead.stage_id.probability
        if kind == "lost" and "probability" not in vals:
            extra["probability"] = 0
        if process == "end":
            extra.update(date_process_end=today, process_end_user_id=self.env.uid)
        elif process == "reopen":
            extra.update(date_process_end=False, process_end_user_id=False)
        return moves, tuple(sorted(extra.items()))

    # ------------------------------------------------------------
    # HOW FAR EACH GOT (stage_reached_id)
    # ------------------------------------------------------------

    @api.model
    def _stage_further(self, reached, stage):
        """The further of two stages in crm's stage order (sequence, then
        id), archived stages not counting: how far an opportunity that got
        to ``reached`` got once it enters ``stage``."""
        if not stage.active:
            return reached
        if not reached or (stage.sequence, stage.id) > (reached.sequence, reached.id):
            return stage
        return reached

    @api.model
    def _stage_reached_refresh(self, stage_ids=None):
        """Recompute ``stage_reached_id`` from the stage history, in one
        statement, writing only the opportunities whose value changes: after
        history rows were written in bulk (install, upgrade: every
        opportunity) or the order or activity of the stages ``stage_ids``
        changed (``_stage_reached_refresh_later``: only the opportunities
        that entered one of them can have got further or less far). Returns
        how many changed."""
        if stage_ids is None:
            # a recompute that was waiting for the commit is this one
            self.env.cr.precommit.data.pop(REACHED_PENDING, None)
        self.flush_model(["stage_reached_id"])
        self.env["crm.stage"].flush_model(["sequence", "active"])
        concerned = (
            SQL(
                """SELECT DISTINCT lead_id AS id FROM crm_lead_stage_history
                    WHERE stage_id = ANY(%s)""",
                list(stage_ids),
            )
            if stage_ids is not None
            else SQL("SELECT id FROM crm_lead")
        )
        self.env.cr.execute(
            SQL(
                """
            WITH concerned AS (%s),
            reached AS (
                SELECT DISTINCT ON (h.lead_id) h.lead_id, h.stage_id
                  FROM crm_lead_stage_history h
                  JOIN crm_stage s ON s.id = h.stage_id AND s.active
                 WHERE h.lead_id IN (SELECT id FROM concerned)
                 ORDER BY h.lead_id, s.sequence DESC, s.id DESC
            )
            UPDATE crm_lead l SET stage_reached_id = r.stage_id
              FROM concerned c LEFT JOIN reached r ON r.lead_id = c.id
             WHERE c.id = l.id AND l.stage_reached_id IS DISTINCT FROM r.stage_id
            """,
                concerned,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["stage_reached_id"])
        return count

    @api.model
    def _stage_reached_refresh_later(self, stages):
        """The order or activity of ``stages`` changed: the furthest stage of
        the opportunities that entered them is recomputed once, before the
        transaction commits (a column drag writes each stage's sequence in
        turn), or before the funnel board reads it in this transaction
        (``_stage_reached_refresh_pending``)."""
        data = self.env.cr.precommit.data
        if REACHED_PENDING not in data:
            data[REACHED_PENDING] = set()
            self.env.cr.precommit.add(self._stage_reached_refresh_pending)
        data[REACHED_PENDING].update(stages.ids)

    @api.model
    def _stage_reached_refresh_pending(self):
        stage_ids = self.env.cr.precommit.data.pop(REACHED_PENDING, None)
        if stage_ids:
            self.sudo()._stage_reached_refresh(stage_ids)

    # ------------------------------------------------------------
    # STAGE HISTORY
    # ------------------------------------------------------------

    def _stage_history_log(self, events, check_dates=False):
        """Close the open history rows of the opportunities in ``events`` and
        open a new one for each, in one query whatever their number.

        Days in a stage count from the business stage dates: a row is left
        on the stage date of the row that follows it (the day of the event
        for a loss or a restoration)."""
        if not events:
            return
        # the flush rounds crm's monetary fields with each opportunity's
        # currency, a computed field it would compute one opportunity at a
        # time: compute it once for the batch
        self.mapped("company_currency")
        self.flush_model()
        # the statement reads the stages' order and activity (skipped
        # stages, moving on): a stage changed in this transaction counts
        self.env["crm.stage"].flush_model()
        lead_ids = list(events)
        History = self.env["crm.lead.stage.history"]
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
            WITH events AS (
                -- each opportunity read once, with what its new row records
                SELECT e.*,
                       CASE WHEN e.change_type IN ('lost', 'restore')
                            THEN %(today)s::date
                            ELSE COALESCE(l.date_stage, %(today)s::date) END AS day,
                       l.stage_id, l.user_id, l.team_id, l.probability,
                       l.expected_revenue, l.prorated_revenue, l.company_id
                  FROM unnest(%(lead_ids)s::integer[], %(previous)s::integer[],
                              %(kinds)s::varchar[])
                    AS e(lead_id, previous_stage_id, change_type)
                  JOIN crm_lead l ON l.id = e.lead_id
            ), closed AS (
                UPDATE crm_lead_stage_history h
                   SET date_leave = GREATEST(%(now)s, h.date_enter),
                       duration_days = GREATEST(e.day - h.date_stage, 0),
                       next_stage_id = e.stage_id,
                       left_change = e.change_type,
                       moved_on = e.change_type IN ('stage', 'won') AND COALESCE(
                           ns.sequence > (SELECT cs.sequence FROM crm_stage cs
                                           WHERE cs.id = h.stage_id), false),
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM events e
                  LEFT JOIN crm_stage ns ON ns.id = e.stage_id
                 -- the lead ids again, as an index condition: the open rows
                 -- are then found one lookup per opportunity, never by a
                 -- range scan of every open row (see the benchmark)
                 WHERE h.lead_id = ANY(%(lead_ids)s) AND h.lead_id = e.lead_id
                   AND h.date_leave IS NULL
             RETURNING h.lead_id
            ), process_users AS (
                -- whoever changes the stage works on the process
                INSERT INTO crm_lead_process_user_rel (lead_id, user_id)
                SELECT lead_id, %(uid)s FROM events
                ON CONFLICT DO NOTHING
            ), inserted AS (
                INSERT INTO crm_lead_stage_history (
                    lead_id, stage_id, previous_stage_id, change_type, date_enter,
                    date_stage, user_id, salesperson_id, team_id, probability,
                    expected_revenue, prorated_revenue, report_company_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT e.lead_id, e.stage_id, e.previous_stage_id, e.change_type,
                       %(now)s, e.day, %(uid)s, e.user_id, e.team_id, e.probability,
                       e.expected_revenue, e.prorated_revenue, e.company_id,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM events e
                RETURNING *
            )
            %(skipped)s
            """,
                now=now,
                today=fields.Date.context_today(self),
                uid=self.env.uid,
                lead_ids=lead_ids,
                previous=[events[lead_id][0] or None for lead_id in lead_ids],
                kinds=[events[lead_id][1] for lead_id in lead_ids],
                skipped=History._insert_skipped_stages_sql(SQL("inserted")),
            )
        )
        History.invalidate_model()
        self.browse(lead_ids).invalidate_recordset(
            ["stage_history_ids", "stage_history_count", "process_user_ids"]
        )
        if check_dates:
            self.browse(lead_ids)._stage_history_check_dates()

    def _stage_history_sync_date_stage(self):
        """A backdated stage date is the date of the open history row too; the
        days spent in the stage before follow."""
        if not self:
            return
        self.flush_recordset(["date_stage"])
        self.env.cr.execute(
            """UPDATE crm_lead_stage_history h SET date_stage = l.date_stage
                 FROM crm_lead l
                WHERE h.lead_id = l.id AND h.date_leave IS NULL AND l.id = ANY(%s)
                  AND h.change_type NOT IN ('lost', 'restore')
                  AND h.date_stage IS DISTINCT FROM l.date_stage""",
            [self.ids],
        )
        self.env["crm.lead.stage.history"].invalidate_model(["date_stage"])
        self._stage_history_recompute_durations()
        self._stage_history_check_dates()

    def _stage_history_recompute_durations(self):
        """Days in each left stage of these opportunities, from the stage
        dates of consecutive rows (after a stage date was corrected)."""
        self.env.cr.execute(
            """UPDATE crm_lead_stage_history h
                  SET duration_days = GREATEST(n.next_day - h.date_stage, 0)
                 FROM (SELECT id,
                              lead(date_stage) OVER (
                                  PARTITION BY lead_id ORDER BY date_enter, id
                              ) AS next_day
                         FROM crm_lead_stage_history WHERE lead_id = ANY(%s)) n
                WHERE n.id = h.id AND h.date_leave IS NOT NULL
                  AND h.duration_days
                      IS DISTINCT FROM GREATEST(n.next_day - h.date_stage, 0)""",
            [self.ids],
        )
        self.env["crm.lead.stage.history"].invalidate_model(["duration_days"])

    def _stage_history_check_dates(self):
        """Stage dates never go backwards: no stage's date is before the date
        of the stage the opportunity came from."""
        self.env.cr.execute(
            """SELECT h.lead_id, h.date_stage, p.date_stage
                 FROM crm_lead_stage_history h
                 JOIN LATERAL (
                      SELECT date_stage FROM crm_lead_stage_history p
                       WHERE p.lead_id = h.lead_id
                         AND p.stage_id IS DISTINCT FROM h.stage_id
                         AND (p.date_enter, p.id) < (h.date_enter, h.id)
                       ORDER BY p.date_enter DESC, p.id DESC LIMIT 1) p ON true
                WHERE h.lead_id = ANY(%s) AND h.date_stage < p.date_stage
                LIMIT 1""",
            [self.ids],
        )
        row = self.env.cr.fetchone()
        if row:
            lead = self.browse(row[0])
            raise ValidationError(
                self.env._(
                    "The stage date of %(lead)s (%(date)s) cannot be earlier than "
                    "the date of its previous stage (%(previous)s).",
                    lead=lead.name,
                    date=tools.format_date(self.env, row[1]),
                    previous=tools.format_date(self.env, row[2]),
                )
            )

    # ------------------------------------------------------------
    # ACTIVITIES ON WIN
    # ------------------------------------------------------------

    def _close_pre_sale_activities(self):
        """Won or lost: the pre-sale next actions are over."""
        if self:
            self.env["mail.activity"].sudo().search(
                [("res_model", "=", "crm.lead"), ("res_id", "in", self.ids)]
            ).unlink()

    def _plan_after_sale_activity(self):
        """Won: plan the post-sale "next action" for the salesperson."""
        if not self:
            return
        activity_type = self.env.ref(
            "sales_funnel_pl.mail_activity_type_after_sale", raise_if_not_found=False
        )
        if not activity_type:
            return
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_funnel_pl.after_sale_days", 30)
        )
        deadline = fields.Date.context_today(self) + timedelta(days=days)
        for lead in self:
            lead.activity_schedule(
                activity_type_id=activity_type.id,
                user_id=(lead.user_id or self.env.user).id,
                date_deadline=deadline,
            )

    @api.model
    def _next_action_open_domain(self):
        return [("type", "=", "opportunity"), *compat.open_lead_domain()]

    @api.model
    def _cron_next_action_reminders(self):
        """Send each salesperson one message listing their overdue next
        actions and their open opportunities without a next action."""
        owners = self._read_group(
            self._next_action_open_domain()
            + [
                ("user_id.active", "=", True),
                ("user_id.share", "=", False),
                "|",
                ("next_action_date", "=", False),
                # today is each user's own: take the latest today on Earth,
                # each user's reminder then keeps only what is due for them
                ("next_action_date", "<", fields.Date.today() + timedelta(days=2)),
            ],
            ["user_id"],
        )
        sent = 0
        for [user] in owners:
            if self.with_user(user)._next_action_reminder_send():
                sent += 1
        _logger.info("sales_funnel_pl: next action reminders sent to %s users", sent)
        return sent

    def _next_action_reminder_send(self):
        """Send the reminder of ``self.env.user``: read with their rights and
        written in their language. Returns whether a message was sent."""
        user = self.env.user
        Lead = self.with_context(lang=user.lang, tz=user.tz)
        today = fields.Date.context_today(Lead)
        base = self._next_action_open_domain() + [("user_id", "=", user.id)]
        overdue = Lead.search(
            base + [("next_action_date", "<", today)], order="next_action_date, id"
        )
        missing = Lead.search(
            base + [("next_action_date", "=", False)], order="date_stage, id"
        )
        if not overdue and not missing:
            return False
        env = Lead.env
        body = Markup()
        if overdue:
            body += Markup("<p><b>%s</b></p><ul>") % env._("Overdue next actions")
            for lead in overdue:
                body += Markup("<li>%s: %s (%s)</li>") % (
                    lead._get_html_link(),
                    lead.next_action,
                    tools.format_date(env, lead.next_action_date),
                )
            body += Markup("</ul>")
        if missing:
            body += Markup("<p><b>%s</b></p><ul>") % env._(
                "Open opportunities without a next action"
            )
            for lead in missing:
                body += Markup("<li>%s: %s</li>") % (
                    lead._get_html_link(),
                    escape(lead.stage_id.name),
                )
            body += Markup("</ul>")
        # sent by OdooBot; this runs as the recipient (their rights), whom
        # Odoo takes for the author and would not notify without the flag
        self.env["mail.thread"].sudo().with_context(
            mail_notify_author=True
        ).message_notify(
            author_id=self.env.ref("base.partner_root").id,
            partner_ids=user.partner_id.ids,
            subject=env._("Your sales funnel: next actions to plan"),
            body=body,
            model_description=env._("Opportunity"),
            email_layout_xmlid="mail.mail_notification_light",
        )
        return True

    if compat.HANDLE_WON_LOST_FROM_VALS:
        # 18.0 only: 19.0 decides on the stored won_status (see compat.py)

        def _handle_won_lost(self, vals):
            """crm reads a 0% probability as "lost" when an opportunity reaches a
            won stage. Here lost means archived: an open opportunity at 0% (the
            first stage's %) that is won only reaches won, it never leaves lost."""
            stage_id = vals.get("stage_id")
            if not stage_id or not self.env["crm.stage"].browse(stage_id).is_won:
                return super()._handle_won_lost(vals)
            open_at_zero = self.filtered(
                lambda lead: lead.active
                and lead.probability == 0
                and lead.stage_id.id != stage_id
            )
            super(CrmLead, self - open_at_zero)._handle_won_lost(vals)
            if open_at_zero:
                rest = {key: value for key, value in vals.items() if key != "stage_id"}
                if "active" in rest:
                    super(CrmLead, open_at_zero)._handle_won_lost(rest)
                open_at_zero._pls_increment_frequencies(to_state="won")

    def _update_automated_probabilities(self):
        """Predictive lead scoring's cron: crm aligns ``probability`` on the
        new ``automated_probability`` when both were equal. Here the
        probability follows the stage, so only the automated one is
        refreshed, with crm's batches: one transaction per batch of updates,
        so that ``crm_lead`` rows are never locked for the whole run."""
        pls_start_date = self._pls_get_safe_start_date()
        if not pls_start_date:
            return
        # the open opportunities: crm skips those at 0%, taking them for lost,
        # but here an opportunity at 0% (the first stage) is open
        leads = self.env["crm.lead"].search(
            [
                ("stage_id", "!=", False),
                *compat.open_lead_domain(),
                ("create_date", ">=", pls_start_date),
                "|",
                ("probability", "=", False),
                ("probability", "<", 100),
            ]
        )
        by_probability = defaultdict(list)
        for batch in tools.split_every(PLS_COMPUTE_BATCH_STEP, leads.ids, leads.browse):
            probabilities = compat.pls_probabilities(batch, batch_mode=True)
            for lead_id, probability in sorted(probabilities.items()):
                by_probability[probability].append(lead_id)
        # never commit in tests: Odoo's runner marks them in current_test (18.0
        # and 19.0), pytest-odoo (and 18.0's runner) on the thread
        auto_commit = not (
            odoo_module.current_test
            or getattr(threading.current_thread(), "testing", False)
        )
        self.flush_model()
        for probability, lead_ids in by_probability.items():
            for batch_ids in tools.split_every(PLS_UPDATE_BATCH_STEP, lead_ids):
                self.env.cr.execute(
                    "UPDATE crm_lead SET automated_probability = %s WHERE id IN %s",
                    (probability, tuple(batch_ids)),
                )
                if auto_commit:
                    # a commit per batch, as crm's own cron does, so a long run
                    # keeps what it computed (never in tests: see above)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        self.invalidate_model(["automated_probability"])
        _logger.info("Predictive Lead Scoring: automated probabilities updated")
