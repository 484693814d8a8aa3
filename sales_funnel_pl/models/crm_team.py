# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class CrmTeam(models.Model):
    """The sales team's leader (``user_id``) gets the week's changes of the
    team's pipeline every Monday morning."""

    _inherit = "crm.team"

    @api.model
    def _cron_pipeline_changes_weekly(self):
        """Weekly scheduled action (Monday morning): each sales team's leader
        gets the changes of the team's pipeline over the last seven days of
        their calendar. Returns the number of messages sent."""
        teams = self.sudo().search(
            [("user_id", "!=", False), ("user_id.active", "=", True)]
        )
        sent = 0
        for team in teams.filtered(lambda team: not team.user_id.share):
            leader = team.user_id
            if team.with_user(leader).sudo()._pipeline_changes_send():
                sent += 1
        _logger.info(
            "sales_funnel_pl: weekly pipeline changes sent to %s leaders", sent
        )
        return sent

    def _pipeline_changes_send(self):
        """Send the team's changes of the last seven days (up to today's
        midnight, in the leader's time zone) to its leader, in their
        language, as they read their notifications. Nothing when nothing
        changed. Returns whether a message was sent."""
        self.ensure_one()
        leader = self.user_id
        team = self.with_context(
            lang=leader.partner_id.lang or leader.lang, tz=leader.tz
        )
        env = team.env
        tz = pytz.timezone(leader.tz or "UTC")
        today = fields.Date.context_today(team)
        until = tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc)
        since = until - timedelta(days=7)
        Changes = env["crm.lead.value.change"]
        summary = Changes._period_summary(
            SQL("l.team_id = %s", self.id),
            since.replace(tzinfo=None),
            until.replace(tzinfo=None),
        )
        items = Changes._summary_items(summary)
        if not items:
            return False
        first_day, last_day = today - timedelta(days=7), today - timedelta(days=1)
        body = Markup("<p><b>%s</b></p> <ul>") % env._(
            "%(team)s, from %(start)s to %(end)s",
            team=self.name,
            start=tools.format_date(env, first_day),
            end=tools.format_date(env, last_day),
        )
        for item in items:
            body += Markup("<li>%s</li> ") % item
        body += Markup("</ul> ")
        if summary["slips"]:
            body += Markup("<p><b>%s</b></p> <ul>") % env._("The largest slips")
            currency = env.company.currency_id
            for lead, old_day, new_day, amount in summary["slips"]:
                body += Markup("<li>%s: %s → %s (%s)</li> ") % (
                    lead.with_env(env)._get_mail_link(),
                    tools.format_date(env, old_day),
                    tools.format_date(env, new_day),
                    tools.format_amount(env, amount, currency),
                )
            body += Markup("</ul> ")
        env["crm.lead"]._sales_funnel_notify(
            leader,
            env._("Your team's pipeline: the week's changes"),
            body,
            "sales_funnel_pl.mail_notification_pipeline_changes",
        )
        return True
