from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date


class SalesFunnelTarget(models.Model):
    """A monthly sales target: of a sales team (no salesperson) or of one of
    its salespeople, in the company's currency. Set by sales managers; the
    salespeople read their own and their teams'. A team's target is the
    team's total: the targets of its salespeople are its share-out, and
    what the team's target exceeds them by shows as the team's own."""

    _name = "sales.funnel.target"
    _description = "Sales Target"
    _order = "date desc, team_id, user_id"
    _rec_name = "date"

    date = fields.Date(
        string="Month",
        required=True,
        index=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1),
        help="The month of the target (stored as its first day).",
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", required=True, index=True, ondelete="cascade"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        ondelete="cascade",
        help="Empty for the target of the whole team.",
    )
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    amount = fields.Monetary(
        string="Target", currency_field="currency_id", required=True
    )

    @api.constrains("amount")
    def _check_amount(self):
        for target in self:
            if target.amount < 0:
                raise ValidationError(self.env._("A sales target cannot be negative."))

    @api.constrains("date", "company_id", "team_id", "user_id")
    def _check_unique(self):
        groups = self._read_group(
            [("date", "in", self.mapped("date")), ("team_id", "in", self.team_id.ids)],
            ["date:day", "company_id", "team_id", "user_id"],
            ["__count"],
        )
        for date, _company, team, user, count in groups:
            if count > 1:
                owner = (
                    f"{team.display_name} ({user.display_name})"
                    if user
                    else team.display_name
                )
                raise ValidationError(
                    self.env._(
                        "%(owner)s already has a target for %(month)s.",
                        owner=owner,
                        # the month in the user's language ("luty 2026")
                        month=format_date(self.env, date, date_format="LLLL y"),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._first_of_month(vals)
        return super().create(vals_list)

    def write(self, vals):
        return super().write(self._first_of_month(vals))

    @api.model
    def _first_of_month(self, vals):
        if vals.get("date"):
            vals["date"] = fields.Date.to_date(vals["date"]).replace(day=1)
        return vals

    def _copy_to_next_months(self, months):
        """Copy the targets to each of the ``months`` months following their
        own; a month already holding the same target (team, salesperson,
        company) keeps its own. Returns the new targets."""
        wanted = {
            (
                target.date + relativedelta(months=step),
                target.company_id.id,
                target.team_id.id,
                target.user_id.id,
            ): target.amount
            for target in self
            for step in range(1, months + 1)
        }
        existing = self.search(
            [
                ("date", "in", list({key[0] for key in wanted})),
                ("team_id", "in", self.team_id.ids),
            ]
        )
        for target in existing:
            wanted.pop(
                (
                    target.date,
                    target.company_id.id,
                    target.team_id.id,
                    target.user_id.id,
                ),
                None,
            )
        return self.create(
            [
                {
                    "date": date,
                    "company_id": company_id,
                    "team_id": team_id,
                    "user_id": user_id,
                    "amount": amount,
                }
                for (date, company_id, team_id, user_id), amount in sorted(
                    wanted.items(),
                    key=lambda item: (item[0][0], item[0][2], item[0][3] or 0),
                )
            ]
        )

    @api.model
    def _report_rows_sql(self):
        """SQL selecting the targets of the companies the user works in as
        report rows (id, date, team_id, user_id, company_id, amount): a
        salesperson's target as it is, a team's own target less its
        salespeople's of the month (never below 0), so that the rows add
        up to the team's target."""
        return SQL(
            """
            SELECT t.id, t.date, t.team_id, t.user_id, t.company_id,
                   CASE WHEN t.user_id IS NOT NULL THEN t.amount
                        ELSE GREATEST(t.amount - COALESCE((
                            SELECT SUM(u.amount) FROM sales_funnel_target u
                             WHERE u.user_id IS NOT NULL AND u.date = t.date
                               AND u.team_id = t.team_id AND u.company_id =
                                   t.company_id),
                            0), 0) END AS amount
              FROM sales_funnel_target t
             WHERE t.company_id IN %(companies)s""",
            companies=tuple(self.env.companies.ids),
        )
