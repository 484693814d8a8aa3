from collections import Counter

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date

# One target per month, company, team and salesperson, held by the database
# too: two managers creating the same target at the same time both pass the
# check in Python, the unique index lets one of them through. A team's own
# target has no salesperson: COALESCE, as a unique index takes NULLs as
# distinct (NULLS NOT DISTINCT is PostgreSQL 15's, older servers refuse it).
TARGET_UNIQUE_INDEX = "sales_funnel_target_month_uniq"
TARGET_KEY = "date, company_id, team_id, COALESCE(user_id, 0)"


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

    def init(self):
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON sales_funnel_target (%s)",
                SQL.identifier(TARGET_UNIQUE_INDEX),
                SQL(TARGET_KEY),
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [
            self._first_of_month(self._add_missing_default_values(vals))
            for vals in vals_list
        ]
        self._check_unique(
            [
                (
                    vals.get("date"),
                    vals.get("company_id"),
                    vals.get("team_id"),
                    vals.get("user_id") or False,
                )
                for vals in vals_list
            ]
        )
        return super().create(vals_list)

    def write(self, vals):
        vals = self._first_of_month(vals)
        if {"date", "company_id", "team_id", "user_id"} & set(vals):
            self._check_unique(
                [
                    (
                        vals.get("date", target.date),
                        vals.get("company_id", target.company_id.id),
                        vals.get("team_id", target.team_id.id),
                        vals.get("user_id", target.user_id.id) or False,
                    )
                    for target in self
                ]
            )
        return super().write(vals)

    @api.model
    def _first_of_month(self, vals):
        if vals.get("date"):
            vals["date"] = fields.Date.to_date(vals["date"]).replace(day=1)
        return vals

    def _check_unique(self, keys):
        """Refuse targets ``keys`` (month, company id, team id, salesperson
        id or False) repeating one another or a target other than ``self``
        (one the user may not read too), with a message naming the month in
        the user's language. Checked before the database is written: its
        unique index (``init``) would refuse them with a technical message.
        One query."""
        counts = Counter(keys)
        duplicate = next((key for key in keys if counts[key] > 1), None)
        if duplicate is None and keys:
            self.flush_model(["date", "company_id", "team_id", "user_id"])
            self.env.cr.execute(
                SQL(
                    """SELECT date, company_id, team_id, user_id
                         FROM sales_funnel_target
                        WHERE (%s) IN %s AND id NOT IN %s
                        LIMIT 1""",
                    SQL(TARGET_KEY),
                    tuple(
                        (day, company, team, user or 0)
                        for day, company, team, user in keys
                    ),
                    tuple(self.ids) or (0,),
                )
            )
            duplicate = self.env.cr.fetchone()
        if duplicate is None:
            return
        day, _company, team_id, user_id = duplicate
        team = self.env["crm.team"].browse(team_id)
        user = self.env["res.users"].browse(user_id)
        owner = (
            f"{team.display_name} ({user.display_name})" if user else team.display_name
        )
        raise ValidationError(
            self.env._(
                "%(owner)s already has a target for %(month)s.",
                owner=owner,
                # the month in the user's language ("luty 2026")
                month=format_date(self.env, day, date_format="LLLL y"),
            )
        )

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
