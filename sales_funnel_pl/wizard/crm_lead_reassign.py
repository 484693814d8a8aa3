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
    # open opportunities and activities of every company the user works in,
    # some outside the company switcher: read without checking that they are
    # active (the compute chose them so), which would read them in the
    # switcher's companies; the view reads them in all of the user's
    moving_lead_ids = fields.Many2many(
        "crm.lead",
        string="Opportunities that will move",
        compute="_compute_moving",
        context={"active_test": False},
    )
    moving_activity_ids = fields.Many2many(
        "mail.activity",
        string="Activities that will move",
        compute="_compute_moving",
        context={"active_test": False},
        help="The open activities of the salesperson on these opportunities.",
    )
    staying_message = fields.Text(
        string="Opportunities that stay",
        compute="_compute_moving",
        help="Open opportunities of the salesperson that this reassignment cannot "
        "move, and why.",
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

    @api.depends("from_user_id", "to_user_id", "team_id", "stage_ids", "lead_ids")
    def _compute_moving(self):
        for wizard in self:
            leads, staying, hidden_count = wizard._get_reassignment()
            # written in the companies the opportunities were read in: 19.0
            # checks that the user may read what a many2many is given
            record = wizard.with_env(leads.env)
            record.lead_count = len(leads)
            record.moving_lead_ids = leads
            record.moving_activity_ids = wizard._get_activities(leads)
            record.staying_message = wizard._get_staying_message(staying, hidden_count)

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
        leads, staying, hidden_count = self._get_reassignment()
        staying_message = self._get_staying_message(staying, hidden_count)
        if not leads:
            reason = (
                self.env._(
                    "None of these opportunities can go to %(user)s.",
                    user=to_user.name,
                )
                if staying
                else self.env._(
                    "%(user)s has no open opportunity matching these limits.",
                    user=from_user.name,
                )
            )
            raise UserError(" ".join(filter(None, [reason, staying_message])))
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
        message = self._get_reassigned_message(leads)
        action = success_notification(
            " ".join(filter(None, [message, staying_message]))
        )
        if staying_message:
            # some stay: the manager must read it, and act on it
            action["params"].update(type="warning", sticky=True)
        return action

    def _get_reassigned_message(self, leads):
        """How many opportunities went to ``to_user_id``, per company when
        they are of several."""
        self.ensure_one()
        per_company = sorted(
            leads.grouped("company_id").items(),
            key=lambda item: (not item[0], item[0].name or ""),
        )
        values = {
            "count": len(leads),
            "from_user": self.from_user_id.name,
            "to_user": self.to_user_id.name,
        }
        if len(per_company) == 1:
            return self.env._(
                "%(count)s opportunities reassigned from %(from_user)s to %(to_user)s.",
                **values,
            )
        counts = []
        for company, company_leads in per_company:
            name = company.name or self.env._("no company")
            counts.append(
                self.env._(
                    "%(count)s in %(company)s", count=len(company_leads), company=name
                )
            )
        return self.env._(
            "%(count)s opportunities reassigned from %(from_user)s to "
            "%(to_user)s: %(companies)s.",
            companies=", ".join(counts),
            **values,
        )

    def _get_lead_model(self):
        """``crm.lead`` searching active records only, even when the context
        of the ``from_user_id`` field (``active_test`` False, to offer archived
        users) reaches the wizard: lost opportunities are archived and stay.

        In every company the user may open, not only those the company
        switcher shows: a departing salesperson hands over all their
        opportunities (the view reads the lists in the same companies)."""
        return self.env["crm.lead"].with_context(
            active_test=True, allowed_company_ids=self.env.user.company_ids.ids
        )

    def _get_reassignment(self):
        """``(moving, staying, hidden_count)``: the open opportunities of
        ``from_user_id`` within the limits set, in every company the user may
        open. Those of a company ``to_user_id`` has no access to stay
        (``staying``: Odoo allows no salesperson from outside the
        opportunity's company), for a salesperson of that company.
        ``hidden_count``: how many more stand in companies the user has no
        access to; they are counted (as superuser), so that the user knows,
        never moved."""
        self.ensure_one()
        Lead = self._get_lead_model()
        if not self.from_user_id:
            return Lead, Lead, 0
        domain = self._get_leads_domain()
        leads = Lead.search(domain)
        # in the same companies (18.0 filters what the user may not read), and
        # only compared, never read (19.0 would read whether they are active)
        to_companies = (
            self.to_user_id.with_env(Lead.env)
            .with_context(active_test=False)
            .company_ids
        )
        staying = (
            leads.filtered(
                lambda lead: lead.company_id and lead.company_id not in to_companies
            )
            if self.to_user_id
            else Lead
        )
        hidden_count = Lead.sudo().search_count(
            [
                *domain,
                ("company_id", "!=", False),
                ("company_id", "not in", self.env.user.company_ids.ids),
            ]
        )
        return leads - staying, staying, hidden_count

    def _get_staying_message(self, staying, hidden_count):
        """What the reassignment leaves with ``from_user_id``, and why."""
        self.ensure_one()
        sentences = []
        if staying:
            sentences.append(
                self.env._(
                    "%(count)s opportunities stay with %(from_user)s: %(to_user)s has "
                    "no access to %(companies)s. Reassign them to a salesperson who "
                    "works there.",
                    count=len(staying),
                    from_user=self.from_user_id.name,
                    to_user=self.to_user_id.name,
                    companies=", ".join(sorted(staying.company_id.mapped("name"))),
                )
            )
        if hidden_count:
            sentences.append(
                self.env._(
                    "%(count)s opportunities in companies you have no access to stay "
                    "with %(from_user)s.",
                    count=hidden_count,
                    from_user=self.from_user_id.name,
                )
            )
        return " ".join(sentences)

    def _get_activities(self, leads):
        """The open activities of ``from_user_id`` on ``leads`` (done ones
        are archived), read in the companies ``leads`` were found in."""
        self.ensure_one()
        if not leads:
            return self.env["mail.activity"]
        return (
            leads.env["mail.activity"]
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
