# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Next actions: an opportunity's next action is its earliest planned
activity; winning closes the salesperson's pre-sale next actions and plans
the post-sale one; a daily reminder lists each salesperson's overdue and
missing next actions in the funnel, and their opportunities stuck in their
stage (``crm_lead_stuck.py``)."""

import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL, sql

from .. import compat

_logger = logging.getLogger(__name__)

NEXT_ACTION_MAX_LENGTH = 500
# which planned activity is the next action: the earliest, in the order Odoo
# shows activities (deadline, then creation); the compute and the install's
# fill in SQL both sort by it
NEXT_ACTIVITY_ORDER = ("date_deadline", "id")


class CrmLead(models.Model):
    _inherit = "crm.lead"

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

    def _auto_init(self):
        """On install, the next action of existing opportunities is filled in
        one statement: Odoo would compute a new stored field record by
        record, in memory (at a million opportunities, minutes and hundreds
        of megabytes)."""
        cr = self.env.cr
        if not sql.column_exists(cr, "crm_lead", "next_activity_id"):
            sql.create_column(cr, "crm_lead", "next_activity_id", "int4")
            sql.create_column(cr, "crm_lead", "next_action_date", "date")
            cr.execute(
                SQL(
                    """
                WITH next AS (
                    SELECT DISTINCT ON (res_id) res_id, id, date_deadline
                      FROM mail_activity
                     WHERE res_model = 'crm.lead' AND active
                     ORDER BY res_id, %(order)s
                )
                UPDATE crm_lead l
                   SET next_activity_id = next.id, next_action_date = next.date_deadline
                  FROM next
                 WHERE next.res_id = l.id
                    """,
                    order=SQL(", ").join(map(SQL.identifier, NEXT_ACTIVITY_ORDER)),
                )
            )
            _logger.info(
                "sales_funnel_pl: next action set on %s opportunities", cr.rowcount
            )
        return super()._auto_init()

    @api.depends("activity_ids.date_deadline", "activity_ids.active")
    def _compute_next_activity(self):
        """The next action is the earliest planned activity, of any type, in
        the order Odoo shows activities (deadline, then creation)."""
        for lead in self:
            activities = lead.activity_ids.filtered("active")
            activity = min(
                activities,
                key=lambda act: tuple(act[name] for name in NEXT_ACTIVITY_ORDER),
                default=None,
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

    # ------------------------------------------------------------
    # WON AND LOST: what happens to the next actions
    # ------------------------------------------------------------

    def _on_won(self):
        """Won, in the funnel: the salesperson's pre-sale next actions are
        over and the post-sale one is planned. Elsewhere crm's behaviour."""
        funnel = self._sales_funnel_filter()
        funnel._close_pre_sale_activities("won")
        funnel._plan_after_sale_activity()

    def _close_pre_sale_activities(self, reason):
        """The sale is over (``reason``: ``won`` or ``lost``): the pre-sale
        next actions of the salesperson (the opportunity's, or the closing
        user's when it has none) are cancelled, as a person would cancel
        them, each opportunity's chatter saying which; the activities other
        people planned on it (an accountant's invoice, a survey) stay."""
        funnel = self._sales_funnel_filter()
        if not funnel:
            return
        after_sale = self.env.ref(
            "sales_funnel_pl.mail_activity_type_after_sale", raise_if_not_found=False
        )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", funnel.ids),
                    ("activity_type_id", "!=", after_sale.id if after_sale else False),
                ]
            )
        )
        owner = {lead.id: (lead.user_id or self.env.user) for lead in funnel}
        closing = activities.filtered(
            lambda activity: activity.user_id == owner[activity.res_id]
        )
        if not closing:
            return
        heading = (
            self.env._("Sale won: next actions closed")
            if reason == "won"
            else self.env._("Sale lost: next actions closed")
        )
        bodies = {}
        for lead_id, lead_activities in closing.grouped("res_id").items():
            body = Markup("<p>%s</p><ul>") % heading
            for activity in lead_activities.sorted(
                lambda act: (act.date_deadline, act.id)
            ):
                body += Markup("<li>%s (%s, %s)</li>") % (
                    activity.summary or activity.activity_type_id.name,
                    activity.user_id.name,
                    tools.format_date(self.env, activity.date_deadline),
                )
            bodies[lead_id] = body + Markup("</ul>")
        closing.unlink()
        self.browse(list(bodies))._message_log_batch(
            bodies=bodies, author_id=self.env.user.partner_id.id
        )

    def _plan_after_sale_activity(self, won_on=None):
        """Won (today, or on the day ``won_on``: the demo's past sales): plan
        the post-sale "next action" for the salesperson, unless the
        opportunity has one still open (won before, reopened, won again: the
        one planned at the first win stands, as its salesperson may have
        moved it). Returns the activities planned."""
        activities = self.env["mail.activity"]
        if not self:
            return activities
        activity_type = self.env.ref(
            "sales_funnel_pl.mail_activity_type_after_sale", raise_if_not_found=False
        )
        if not activity_type:
            return activities
        planned = set(
            activities.sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
            .mapped("res_id")
        )
        to_plan = self.filtered(lambda lead: lead.id not in planned)
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_funnel_pl.after_sale_days", 30)
        )
        deadline = (won_on or fields.Date.context_today(self)) + timedelta(days=days)
        # one batch per salesperson, the summary in their language (not in
        # the language of whoever won the sale)
        for user, leads in to_plan.grouped(
            lambda lead: lead.user_id or self.env.user
        ).items():
            activities |= leads.activity_schedule(
                activity_type_id=activity_type.id,
                summary=activity_type.with_context(lang=user.lang).summary,
                user_id=user.id,
                date_deadline=deadline,
            )
        return activities

    # ------------------------------------------------------------
    # REMINDERS
    # ------------------------------------------------------------

    def _get_mail_link(self):
        """A link to the opportunity that opens it from a mail client too:
        Odoo's own record address in its e-mails (``/mail/view``, absolute,
        on the record's base URL), which logs in first and lands on the
        opportunity; the web client opens it in place, as it does the links
        of ``_get_html_link`` (``data-oe-model``, ``data-oe-id``)."""
        self.ensure_one()
        return Markup('<a href="%s" data-oe-model="%s" data-oe-id="%s">%s</a>') % (
            self._notify_get_action_link("view"),
            self._name,
            self.id,
            self.display_name,
        )

    @api.model
    def _next_action_open_domain(self):
        """The open opportunities whose next actions are reminded: those the
        funnel applies to (the salespeople who work the funnel)."""
        return [*self._sales_funnel_domain(), *compat.open_lead_domain()]

    @api.model
    def _cron_next_action_reminders(self):
        """Send each salesperson one message listing their overdue next
        actions, their open opportunities without a next action and those
        stuck in their stage."""
        # today is each user's own: take the latest today on Earth, each
        # user's reminder then keeps only what is due for them
        latest_today = fields.Date.today() + timedelta(days=1)
        active_owner = [("user_id.active", "=", True), ("user_id.share", "=", False)]
        owners = self._read_group(
            compat.domain_or(
                [
                    self._next_action_open_domain()
                    + [
                        "|",
                        ("next_action_date", "=", False),
                        ("next_action_date", "<=", latest_today),
                    ],
                    # stuck wherever the stage has a number of days, in the
                    # funnel or not: the manager asked for it
                    self._funnel_stuck_domain(latest_today),
                ]
            )
            + active_owner,
            ["user_id"],
        )
        # the pipeline's changes since the previous reminder (the scheduled
        # action's previous run; a day when it never ran)
        cron = self.env.ref(
            "sales_funnel_pl.ir_cron_next_action_reminders", raise_if_not_found=False
        )
        now = self.env.cr.now()
        since = (cron and cron.sudo().lastcall) or now - timedelta(days=1)
        sent = 0
        for [user] in owners:
            if self.with_user(user)._next_action_reminder_send(since, now):
                sent += 1
        _logger.info("sales_funnel_pl: next action reminders sent to %s users", sent)
        return sent

    def _next_action_reminder_send(self, since=None, until=None):
        """Send the reminder of ``self.env.user``: read with their rights and
        written in their language, with a line of their pipeline's changes
        between ``since`` and ``until`` (UTC) when given and any. Returns
        whether a message was sent."""
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
        stuck = Lead.search(
            [("user_id", "=", user.id), ("funnel_is_stuck", "=", True)],
            order="date_stage, id",
        )
        if not overdue and not missing and not stuck:
            return False
        env = Lead.env
        # a space between the blocks: the messaging menu previews the text
        # of the message on one line, which would glue them together
        body = Markup()
        if overdue:
            body += Markup("<p><b>%s</b></p> <ul>") % env._("Overdue next actions")
            for lead in overdue:
                body += Markup("<li>%s: %s (%s)</li> ") % (
                    lead._get_mail_link(),
                    lead.next_action,
                    tools.format_date(env, lead.next_action_date),
                )
            body += Markup("</ul> ")
        if missing:
            body += Markup("<p><b>%s</b></p> <ul>") % env._(
                "Open opportunities without a next action"
            )
            for lead in missing:
                body += Markup("<li>%s: %s</li> ") % (
                    lead._get_mail_link(),
                    escape(lead.stage_id.name),
                )
            body += Markup("</ul> ")
        if stuck:
            body += Markup("<p><b>%s</b></p> <ul>") % env._(
                "Opportunities stuck in their stage"
            )
            for lead in stuck:
                body += Markup("<li>%s: %s</li> ") % (
                    lead._get_mail_link(),
                    env._(
                        "%(stage)s, %(days)s in the stage (since %(date)s)",
                        stage=lead.stage_id.name,
                        days=lead._funnel_days_text(lead.funnel_stuck_days_count),
                        date=tools.format_date(env, lead.date_stage),
                    ),
                )
            body += Markup("</ul> ")
        if since and until:
            Changes = env["crm.lead.value.change"]
            items = Changes._summary_items(
                Changes._period_summary(SQL("l.user_id = %s", user.id), since, until)
            )
            if items:
                body += Markup("<p>%s</p> ") % env._(
                    "Your pipeline since the previous reminder: %(changes)s.",
                    changes="; ".join(items),
                )
        self._sales_funnel_notify(
            user,
            env._("Your sales funnel: next actions to plan"),
            body,
            "sales_funnel_pl.mail_notification_next_actions",
        )
        return True

    @api.model
    def _sales_funnel_notify(self, user, subject, body, layout):
        """Deliver a message of the addon to ``user`` as they read their
        notifications (an e-mail or Odoo's inbox: their preference), from
        OdooBot, in the e-mail layout ``layout`` (an xml id)."""
        # this may run as the recipient (their rights), whom Odoo takes for
        # the author and would not notify without the flag. Posted on the
        # user's own contact, as Odoo's own notices to a user are (lunch's):
        # the web client lists in its messaging menu only the notifications
        # of a record (18.0 shows none without one). The layout is the light
        # one, headed by the message's own title.
        user.partner_id.sudo().with_context(mail_notify_author=True).message_notify(
            author_id=self.env.ref("base.partner_root").id,
            partner_ids=user.partner_id.ids,
            subject=subject,
            body=body,
            email_layout_xmlid=layout,
        )
