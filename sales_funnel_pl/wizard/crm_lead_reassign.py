# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import compat
from ..utils import success_notification


class CrmLeadReassign(models.TransientModel):
    _name = "crm.lead.reassign"
    _description = "Reassign opportunities to another salesperson"

    from_user_id = fields.Many2one(
        "res.users",
        string="From salesperson",
        required=True,
        domain=[("share", "=", False)],
        help="Salesperson whose open opportunities move, archived or not.",
    )
    to_user_id = fields.Many2one(
        "res.users",
        string="To salesperson",
        required=True,
        domain=[("share", "=", False), ("active", "=", True)],
        help="Salesperson who takes over the opportunities and their open activities.",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales team",
        help="Only move the opportunities of this sales team.",
    )
    stage_ids = fields.Many2many(
        "crm.stage",
        string="Stages",
        help="Only move the opportunities in these stages.",
    )
    lead_ids = fields.Many2many(
        "crm.lead",
        string="Opportunities",
        domain=[("type", "=", "opportunity")],
        help="Only move these opportunities.",
    )
    lead_count = fields.Integer(
        string="Opportunities to move",
        compute="_compute_moving",
        help="Open opportunities of the salesperson matching the limits above. "
        "Won and lost opportunities stay with their salesperson.",
    )
    moving_lead_ids = fields.Many2many(
        "crm.lead",
        string="Opportunities that will move",
        compute="_compute_moving",
    )
    moving_activity_ids = fields.Many2many(
        "mail.activity",
        string="Activities that will move",
        compute="_compute_moving",
        help="The open activities of the salesperson on these opportunities.",
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        context = self.env.context
        if (
            "lead_ids" in fields_list
            and context.get("active_model") == "crm.lead"
            and context.get("active_ids")
        ):
            leads = self.env["crm.lead"].browse(context["active_ids"])
            res["lead_ids"] = [fields.Command.set(leads.ids)]
            # opportunities of a single salesperson: propose that salesperson
            if "from_user_id" in fields_list and len(leads.user_id) == 1:
                res.setdefault("from_user_id", leads.user_id.id)
        return res

    @api.depends("from_user_id", "team_id", "stage_ids", "lead_ids")
    def _compute_moving(self):
        for wizard in self:
            leads = (
                wizard._get_lead_model().search(wizard._get_leads_domain())
                if wizard.from_user_id
                else self.env["crm.lead"]
            )
            wizard.lead_count = len(leads)
            wizard.moving_lead_ids = leads
            wizard.moving_activity_ids = wizard._get_activities(leads)

    def action_reassign(self):
        self.ensure_one()
        from_user, to_user = self.from_user_id, self.to_user_id
        if to_user == from_user:
            raise UserError(
                self.env._(
                    "The opportunities already belong to %(user)s: choose another "
                    "salesperson to reassign them to.",
                    user=to_user.name,
                )
            )
        if not to_user.active:
            raise UserError(
                self.env._(
                    "%(user)s is archived: choose an active salesperson.",
                    user=to_user.name,
                )
            )
        if to_user.share:
            raise UserError(
                self.env._(
                    "%(user)s is not an internal user: opportunities can only be "
                    "assigned to internal users.",
                    user=to_user.name,
                )
            )
        leads = self._get_lead_model().search(self._get_leads_domain())
        if not leads:
            raise UserError(
                self.env._(
                    "%(user)s has no open opportunity matching these limits.",
                    user=from_user.name,
                )
            )
        # keep each opportunity in its sales team: Odoo would otherwise move
        # it to a team of the new salesperson when they are not a member
        with self.env.protecting([leads._fields["team_id"]], leads):
            leads.write({"user_id": to_user.id})
        self._get_activities(leads).write({"user_id": to_user.id})
        body = self.env._(
            "Reassigned from %(from_user)s to %(to_user)s by %(user)s.",
            from_user=from_user.name,
            to_user=to_user.name,
            user=self.env.user.name,
        )
        leads._message_log_batch(bodies=dict.fromkeys(leads.ids, body))
        return success_notification(
            self.env._(
                "%(count)s opportunities reassigned from %(from_user)s to %(to_user)s.",
                count=len(leads),
                from_user=from_user.name,
                to_user=to_user.name,
            )
        )

    def _get_lead_model(self):
        """``crm.lead`` searching active records only, even when the context
        of the ``from_user_id`` field (``active_test`` False, to offer archived
        users) reaches the wizard: lost opportunities are archived and stay."""
        return self.env["crm.lead"].with_context(active_test=True)

    def _get_activities(self, leads):
        """The open activities of ``from_user_id`` on ``leads`` (done ones
        are archived)."""
        self.ensure_one()
        if not leads:
            return self.env["mail.activity"]
        return (
            self.env["mail.activity"]
            .with_context(active_test=True)
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", leads.ids),
                    ("user_id", "=", self.from_user_id.id),
                ]
            )
        )

    def _get_leads_domain(self):
        """The open opportunities of ``from_user_id`` within the limits set."""
        self.ensure_one()
        domain = [
            ("user_id", "=", self.from_user_id.id),
            ("type", "=", "opportunity"),
            *compat.open_lead_domain(),
        ]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        if self.stage_ids:
            domain.append(("stage_id", "in", self.stage_ids._origin.ids))
        if self.lead_ids:
            domain.append(("id", "in", self.lead_ids._origin.ids))
        return domain
