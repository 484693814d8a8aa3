# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """Whoever completes an opportunity's activity worked on its process."""
        lead_ids = [
            activity.res_id for activity in self if activity.res_model == "crm.lead"
        ]
        if lead_ids:
            self.env["crm.lead"].sudo().browse(lead_ids).exists().write(
                {"process_user_ids": [Command.link(self.env.uid)]}
            )
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
