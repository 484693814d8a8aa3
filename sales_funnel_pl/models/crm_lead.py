import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models, tools
from odoo.exceptions import MissingError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

NEXT_ACTION_MAX_LENGTH = 500


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
        "mail.activity", string="Next Action Activity", copy=False,
        ondelete="set null", index="btree_not_null",
    )
    next_action = fields.Char(
        string="Next Action",
        compute="_compute_next_action",
        inverse="_inverse_next_action",
        store=True,
        help="What must be done next in this sale. Planned as a To-Do activity "
        "for the salesperson.",
    )
    next_action_date = fields.Date(
        string="Action Date",
        compute="_compute_next_action",
        inverse="_inverse_next_action",
        store=True,
        index=True,
        help="The date of the next action in the sales process.",
    )
    next_action_state = fields.Selection(
        [("overdue", "Overdue"), ("planned", "Planned"), ("missing", "Missing"),
         ("closed", "Closed")],
        string="Next Action Status",
        compute="_compute_next_action_state",
    )
    date_process_start = fields.Date(
        string="Process Start", default=fields.Date.context_today, copy=False
    )
    date_process_end = fields.Date(string="Process End", copy=False, readonly=True)
    process_start_user_id = fields.Many2one(
        "res.users", string="Started by", default=lambda self: self.env.user,
        copy=False, readonly=True,
    )
    process_end_user_id = fields.Many2one(
        "res.users", string="Closed by", copy=False, readonly=True
    )
    process_user_ids = fields.Many2many(
        "res.users", "crm_lead_process_user_rel", "lead_id", "user_id",
        string="Worked on by", copy=False, readonly=True,
        help="Everyone who changed the stage of this opportunity or completed "
        "one of its activities.",
    )
    stage_history_ids = fields.One2many(
        "crm.lead.stage.history", "lead_id", string="Stage History", readonly=True
    )
    stage_history_count = fields.Integer(
        string="Stage History Count", compute="_compute_stage_history_count"
    )
    origin_lead_id = fields.Many2one(
        "crm.lead", string="Grew from", copy=False, index="btree_not_null",
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
        lead_probabilities = self._pls_get_naive_bayes_probabilities()
        for lead in self:
            if lead.id in lead_probabilities:
                lead.automated_probability = lead_probabilities[lead.id]
            if not lead.id and not lead._origin:
                # a new opportunity in a form: propose its stage's probability
                lead.probability = lead.stage_id.probability
            else:
                lead.probability = lead.probability

    @api.depends(
        "next_activity_id.summary",
        "next_activity_id.date_deadline",
        "next_activity_id.active",
    )
    def _compute_next_action(self):
        for lead in self:
            activity = lead.next_activity_id
            if activity and activity.active:
                lead.next_action = activity.summary or activity.activity_type_id.name
                lead.next_action_date = activity.date_deadline
            else:
                lead.next_action = False
                lead.next_action_date = False

    def _inverse_next_action(self):
        activity_type = self.env.ref(
            "sales_funnel_pl.mail_activity_type_next_action", raise_if_not_found=False
        )
        today = fields.Date.context_today(self)
        to_clear = self.env["mail.activity"]
        for lead in self:
            activity = lead.next_activity_id
            if not lead.next_action and not lead.next_action_date:
                to_clear |= activity
                continue
            values = {
                "summary": lead.next_action or activity_type.name,
                "date_deadline": lead.next_action_date or today,
            }
            if activity and activity.active:
                activity.write(values)
            else:
                lead.next_activity_id = lead.activity_schedule(
                    activity_type_id=activity_type.id,
                    user_id=(lead.user_id or self.env.user).id,
                    **values,
                )
            if not (lead.next_action and lead.next_action_date):
                # show what was planned: the activity is the source of truth
                lead.write(
                    {"next_action": values["summary"],
                     "next_action_date": values["date_deadline"]}
                )
        if to_clear:
            to_clear.with_context(sales_funnel_keep_next_action=True).unlink()

    @api.depends("next_action_date", "active", "probability", "stage_id.is_won")
    def _compute_next_action_state(self):
        today = fields.Date.context_today(self)
        for lead in self:
            if not lead.active or lead.stage_id.is_won:
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
            if lead.date_stage and lead.date_stage > today:
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

    @api.constrains("next_action")
    def _check_next_action(self):
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
        for vals in vals_list:
            if vals.get("stage_id") and "probability" not in vals:
                vals["probability"] = stages.browse(vals["stage_id"]).probability
        leads = super().create(vals_list)
        # opportunities created without a stage get the one Odoo computes
        # for their team: set that stage's probability now
        leads_without_stage = leads.browse(
            lead.id
            for lead, vals in zip(leads, vals_list, strict=True)
            if "stage_id" not in vals and "probability" not in vals
        ).filtered("stage_id")
        leads_without_stage._apply_stage_probability()
        leads._stage_history_log(
            {lead.id: (False, "create") for lead in leads if lead.stage_id}
        )
        return leads

    def write(self, vals):
        self._check_stage_value(vals)
        events = self._stage_history_events(vals)
        if events:
            vals = dict(vals)
            today = fields.Date.context_today(self)
            if "stage_id" in vals and "date_stage" not in vals:
                vals["date_stage"] = today
            ending = self._process_end_values(vals)
            if ending is not None:
                vals.update(ending)
        restored = (
            self.filtered(lambda lead: not lead.active)
            if vals.get("active") and "probability" not in vals
            else self.browse()
        )
        result = self._write_with_stage_probability(vals)
        # a restored opportunity gets its stage's probability back
        restored._apply_stage_probability()
        if events:
            self._stage_history_log(events)
            won = self.browse(
                lead_id for lead_id, (_p, kind) in events.items() if kind == "won"
            )
            won._plan_after_sale_activity()
        elif "date_stage" in vals:
            self._stage_history_sync_date_stage()
        if {"company_id", "team_id", "user_id"} & set(vals):
            self._stage_history_sync_company()
        return result

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False,
                   lazy=True):
        """The funnel report (context ``sales_funnel_fill_stages``) shows every
        stage, with zeros where it is empty, also in the pivot and graph views,
        which group eagerly (Odoo fills empty groups in lazy mode only)."""
        result = super().read_group(
            domain, fields, groupby, offset=offset, limit=limit, orderby=orderby,
            lazy=lazy,
        )
        groupby = [groupby] if isinstance(groupby, str) else list(groupby)
        if (
            lazy and len(groupby) == 1
            or groupby != ["stage_id"]
            or not self.env.context.get("sales_funnel_fill_stages")
            or limit
        ):
            return result
        present = {row["stage_id"][0] for row in result if row["stage_id"]}
        # the stages crm's group_expand shows (_read_group_stage_ids), fetched
        # with their names in one query
        team_id = self.env.context.get("default_team_id")
        team_domain = (
            ["|", ("team_id", "=", False), ("team_id", "=", team_id)]
            if team_id else [("team_id", "=", False)]
        )
        Stage = self.env["crm.stage"]
        stages = Stage.search_fetch(
            expression.OR([[("id", "in", list(present))], team_domain]), ["name"],
            order=Stage._order,
        )
        measures = [
            spec.split(":")[0] for spec in fields
            if spec.split(":")[0] not in ("stage_id", "__count")
        ]
        rows = {row["stage_id"][0] if row["stage_id"] else False: row for row in result}
        filled = []
        for stage in stages:
            filled.append(rows.pop(stage.id, None) or {
                "stage_id": (stage.id, stage.display_name),
                "__count": 0,
                **dict.fromkeys(measures, 0),
                "__domain": expression.AND([domain, [("stage_id", "=", stage.id)]]),
            })
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
            # loads the stage, which the write reads anyway
            self.env["crm.stage"].browse(stage_id).probability  # noqa: B018
        except MissingError:
            raise ValidationError(
                self.env._("The stage %(stage)s does not exist.", stage=stage_id)
            ) from None

    def _write_with_stage_probability(self, vals):
        """Write ``vals``; the opportunities that change stage get the new
        stage's probability unless one is given."""
        if vals.get("stage_id") and "probability" not in vals:
            stage = self.env["crm.stage"].browse(vals["stage_id"])
            # lost opportunities keep their 0%, the others get the stage's %
            moving = self.filtered(lambda lead: lead.stage_id != stage and lead.active)
            staying = self - moving
            if moving and staying:
                super(CrmLead, staying).write(vals)
            if moving:
                vals = dict(vals, probability=stage.probability)
                if not stage.is_won and vals.get("active", True):
                    # Odoo clears the closing date when an opportunity leaves
                    # a won stage without a probability in vals; keep doing so
                    vals.setdefault("date_closed", False)
                return super(CrmLead, moving).write(vals)
        return super().write(vals)

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
            ["|", ("team_id", "=", False), ("team_id", "=", self.team_id.id)],
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

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _apply_stage_probability(self):
        """Set each opportunity's probability to its stage's, one write per stage."""
        for stage, leads in self.grouped("stage_id").items():
            if stage:
                super(CrmLead, leads.filtered("active")).write(
                    {"probability": stage.probability}
                )

    def _stage_history_events(self, vals):
        """{lead id: (previous stage id, change type)} for the opportunities
        that this write makes enter a stage, win, lose or come back."""
        if "stage_id" not in vals and "active" not in vals:
            return {}
        events = {}
        new_stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if vals.get("stage_id") else None
        )
        for lead in self:
            stage_changes = new_stage is not None and lead.stage_id != new_stage
            if "active" in vals and bool(vals["active"]) != lead.active:
                events[lead.id] = (lead.stage_id.id, "restore" if vals["active"] else "lost")
            elif stage_changes:
                kind = "won" if new_stage.is_won and lead.active else "stage"
                events[lead.id] = (lead.stage_id.id, kind)
        return events

    def _process_end_values(self, vals):
        """Values ending (won, lost) or reopening (restored, moved out of the
        won stage) the sales process, or None."""
        today = fields.Date.context_today(self)
        if "active" in vals and not vals["active"]:
            # lost: probability 0 in the same write, so its history row says so
            return {
                "date_process_end": today,
                "process_end_user_id": self.env.uid,
                "probability": 0,
            }
        if vals.get("stage_id"):
            stage = self.env["crm.stage"].browse(vals["stage_id"])
            if stage.is_won:
                return {"date_process_end": today, "process_end_user_id": self.env.uid}
            return {"date_process_end": False, "process_end_user_id": False}
        if vals.get("active"):
            return {"date_process_end": False, "process_end_user_id": False}
        return None

    def _stage_history_log(self, events):
        """Close the open history rows of the opportunities in ``events`` and
        open a new one for each, in one query whatever their number."""
        if not events:
            return
        self.flush_model()
        lead_ids = list(events)
        History = self.env["crm.lead.stage.history"]
        self.env.cr.execute(SQL(
            """
            WITH events AS (
                SELECT * FROM unnest(%(lead_ids)s::integer[], %(previous)s::integer[],
                                     %(kinds)s::varchar[])
                    AS e(lead_id, previous_stage_id, change_type)
            ), closed AS (
                UPDATE crm_lead_stage_history h
                   SET date_leave = GREATEST(%(now)s, h.date_enter),
                       duration_days = EXTRACT(EPOCH FROM
                           GREATEST(%(now)s, h.date_enter) - h.date_enter) / 86400.0,
                       next_stage_id = l.stage_id,
                       left_change = e.change_type,
                       moved_on = e.change_type IN ('stage', 'won') AND COALESCE((
                           SELECT ns.sequence > cs.sequence
                             FROM crm_stage ns, crm_stage cs
                            WHERE ns.id = l.stage_id AND cs.id = h.stage_id), false),
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM events e
                  JOIN crm_lead l ON l.id = e.lead_id
                 WHERE h.lead_id = e.lead_id AND h.date_leave IS NULL
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
                    expected_revenue, prorated_revenue, company_id,
                    create_uid, create_date, write_uid, write_date)
                SELECT l.id, l.stage_id, e.previous_stage_id, e.change_type, %(now)s,
                       COALESCE(l.date_stage, %(today)s), %(uid)s, l.user_id, l.team_id,
                       l.probability, l.expected_revenue, l.prorated_revenue, l.company_id,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM crm_lead l
                  JOIN events e ON e.lead_id = l.id
                RETURNING *
            )
            %(skipped)s
            """,
            now=fields.Datetime.now(),
            today=fields.Date.context_today(self),
            uid=self.env.uid,
            lead_ids=lead_ids,
            previous=[events[lead_id][0] or None for lead_id in lead_ids],
            kinds=[events[lead_id][1] for lead_id in lead_ids],
            skipped=History._insert_skipped_stages_sql(SQL("inserted")),
        ))
        self.env["crm.lead.stage.history"].invalidate_model()
        self.browse(lead_ids).invalidate_recordset(
            ["stage_history_ids", "stage_history_count", "process_user_ids"]
        )

    def _stage_history_sync_date_stage(self):
        """A backdated stage date is the date of the open history row too."""
        self.flush_recordset(["date_stage"])
        self.env.cr.execute(
            """UPDATE crm_lead_stage_history h SET date_stage = l.date_stage
                 FROM crm_lead l
                WHERE h.lead_id = l.id AND h.date_leave IS NULL AND l.id = ANY(%s)""",
            [self.ids],
        )
        self.env["crm.lead.stage.history"].invalidate_model(["date_stage"])

    def _stage_history_sync_company(self):
        """The history belongs to its opportunity: when the opportunity goes
        to another company (directly, or with its team or salesperson), its
        rows go with it, so that no company sees another one's history."""
        self.flush_recordset(["company_id"])
        self.env.cr.execute(
            """WITH history AS (
                   UPDATE crm_lead_stage_history h SET company_id = l.company_id
                     FROM crm_lead l
                    WHERE h.lead_id = l.id AND l.id = ANY(%(ids)s)
                      AND h.company_id IS DISTINCT FROM l.company_id
                RETURNING h.id
               )
               UPDATE crm_lead_stage_history_skip k SET company_id = l.company_id
                 FROM crm_lead l
                WHERE k.lead_id = l.id AND l.id = ANY(%(ids)s)
                  AND k.company_id IS DISTINCT FROM l.company_id""",
            {"ids": self.ids},
        )
        self.env["crm.lead.stage.history"].invalidate_model(["company_id"])
        self.env["crm.lead.stage.history.skip"].invalidate_model(["company_id"])

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
            self.env["ir.config_parameter"].sudo().get_param(
                "sales_funnel_pl.after_sale_days", 30
            )
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
        return [
            ("type", "=", "opportunity"),
            ("active", "=", True),
            ("stage_id.is_won", "=", False),
        ]

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
                ("next_action_date", "<", fields.Date.context_today(self)),
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
                    lead._get_html_link(), lead.next_action,
                    tools.format_date(env, lead.next_action_date),
                )
            body += Markup("</ul>")
        if missing:
            body += Markup("<p><b>%s</b></p><ul>") % env._(
                "Open opportunities without a next action"
            )
            for lead in missing:
                body += Markup("<li>%s: %s</li>") % (
                    lead._get_html_link(), escape(lead.stage_id.name)
                )
            body += Markup("</ul>")
        self.env["mail.thread"].sudo().message_notify(
            partner_ids=user.partner_id.ids,
            subject=env._("Your sales funnel: next actions to plan"),
            body=body,
            model_description=env._("Opportunity"),
            email_layout_xmlid="mail.mail_notification_light",
        )
        return True

    def _update_automated_probabilities(self):
        """Predictive lead scoring's cron: Odoo aligns ``probability`` on the
        new ``automated_probability`` when both were equal. Here the
        probability follows the stage, so keep it and only refresh the
        automated one, batch by batch as Odoo does."""
        pls_start_date = self._pls_get_safe_start_date()
        if not pls_start_date:
            return
        leads = self.env["crm.lead"].search(
            [
                ("stage_id", "!=", False),
                ("create_date", ">=", pls_start_date),
                "|",
                ("probability", "=", False),
                "&",
                ("probability", "<", 100),
                ("probability", ">", 0),
            ]
        )
        self.flush_model()
        for batch in tools.split_every(50000, leads.ids, leads.browse):
            probabilities = batch._pls_get_naive_bayes_probabilities(batch_mode=True)
            by_probability = {}
            for lead_id, probability in probabilities.items():
                by_probability.setdefault(probability, []).append(lead_id)
            for probability, lead_ids in by_probability.items():
                self.env.cr.execute(
                    "UPDATE crm_lead SET automated_probability = %s WHERE id IN %s",
                    (probability, tuple(lead_ids)),
                )
        self.invalidate_model(["automated_probability"])
        _logger.info("Predictive Lead Scoring: automated probabilities updated")
