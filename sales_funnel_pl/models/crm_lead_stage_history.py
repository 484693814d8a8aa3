# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .. import compat

HISTORY_COMPANY_TRIGGER = """
CREATE OR REPLACE FUNCTION sales_funnel_pl_history_company() RETURNS trigger AS $$
BEGIN
    UPDATE crm_lead_stage_history SET report_company_id = NEW.company_id
     WHERE lead_id = NEW.id AND report_company_id IS DISTINCT FROM NEW.company_id;
    UPDATE crm_lead_stage_history_skip SET report_company_id = NEW.company_id
     WHERE lead_id = NEW.id AND report_company_id IS DISTINCT FROM NEW.company_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS sales_funnel_pl_history_company ON crm_lead;
CREATE TRIGGER sales_funnel_pl_history_company
    AFTER UPDATE OF company_id ON crm_lead
    FOR EACH ROW WHEN (OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION sales_funnel_pl_history_company();
"""


@compat.sql_constraints(
    dates_ordered=(
        "CHECK(date_leave IS NULL OR date_leave >= date_enter)",
        "A stage cannot be left before it was entered.",
    ),
)
class CrmLeadStageHistory(models.Model):
    """One row each time an opportunity enters a stage (or is won, lost or
    restored). Rows are facts: written by the opportunity itself, never
    created, changed (but for the stage date, by a sales manager) or deleted
    by hand."""

    _name = "crm.lead.stage.history"
    _description = "Opportunity Stage History"
    _order = "date_enter desc, id desc"
    _rec_name = "stage_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    stage_id = fields.Many2one(
        "crm.stage", string="Stage", index=True, ondelete="restrict", readonly=True
    )
    previous_stage_id = fields.Many2one(
        "crm.stage", string="Previous Stage", ondelete="restrict", readonly=True
    )
    change_type = fields.Selection(
        [
            ("create", "Created"),
            ("stage", "Stage change"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
            ("import", "From the chatter"),
            ("map", "Stage mapping"),
        ],
        string="Change",
        required=True,
        default="stage",
        readonly=True,
    )
    next_stage_id = fields.Many2one(
        "crm.stage",
        string="Next Stage",
        ondelete="set null",
        readonly=True,
        help="The stage the opportunity was in right after leaving this row.",
    )
    left_change = fields.Selection(
        [
            ("stage", "Stage change"),
            ("won", "Won"),
            ("lost", "Lost"),
            ("restore", "Restored"),
            ("map", "Stage mapping"),
        ],
        string="Left by",
        readonly=True,
    )
    moved_on = fields.Boolean(
        readonly=True,
        help="Left for a later stage of the funnel (as the funnel stood then).",
    )
    skipped_stage_ids = fields.Many2many(
        "crm.stage",
        string="Skipped Stages",
        compute="_compute_skipped_stage_ids",
        help="The funnel stages between the previous stage and this one, which "
        "the opportunity did not go through (as the funnel stood then).",
    )
    date_enter = fields.Datetime(
        string="Entered", required=True, index=True, readonly=True
    )
    date_leave = fields.Datetime(string="Left", readonly=True)
    date_stage = fields.Date(
        string="Stage Date", help="The date on which the stage took place."
    )
    duration_days = fields.Float(
        string="Days in Stage",
        digits=(16, 2),
        readonly=True,
        aggregator="avg",
        help="Days between this stage's date and the date of the stage that "
        "followed it (the business dates, backdated ones included).",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Changed by",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    salesperson_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        readonly=True,
        ondelete="set null",
    )
    probability = fields.Float(readonly=True, aggregator="avg")
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    prorated_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    # the opportunity's company, never a copy: a row cannot drift from it
    # (stored, it would cost queries on every salesperson or team change)
    company_id = fields.Many2one(related="lead_id.company_id", string="Company")
    # the same company, stored for the stage analysis' SQL (one scan of the
    # history, no join): written with the row, then kept equal to the
    # opportunity's by a database trigger (see init), whatever changes it
    report_company_id = fields.Many2one(
        "res.company", string="Company (analysis)", readonly=True, index=True
    )
    company_currency = fields.Many2one(
        related="company_id.currency_id", string="Currency"
    )

    is_manager = fields.Boolean(compute="_compute_is_manager")

    def init(self):
        # the open row of an opportunity is looked up at every stage change
        self.env.cr.execute(
            """CREATE INDEX IF NOT EXISTS crm_lead_stage_history_open_idx
               ON crm_lead_stage_history (lead_id) WHERE date_leave IS NULL"""
        )
        # An opportunity's company changes through crm's computes (its team,
        # salesperson or customer), not only through writes: the database
        # keeps the rows' analysis company equal to it, at no cost when the
        # company stays (dropped by the uninstall hook).
        self.env.cr.execute(HISTORY_COMPANY_TRIGGER)

    @api.model
    def _insert_skipped_stages_sql(self, rows):
        """SQL recording the skipped stages of the history rows ``rows`` (a
        table or CTE with the history's columns id, lead_id, stage_id,
        previous_stage_id, change_type, team_id, salesperson_id,
        date_enter and report_company_id): the active stages of the row's team
        ordered strictly between the previous stage and the new one."""
        return SQL(
            """
            INSERT INTO crm_lead_stage_history_skip (
                history_id, stage_id, lead_id, team_id, salesperson_id, date_enter,
                report_company_id)
            SELECT r.id, sk.id, r.lead_id, r.team_id, r.salesperson_id, r.date_enter,
                   r.report_company_id
              FROM %(rows)s r
              JOIN crm_stage s ON s.id = r.stage_id
              JOIN crm_stage ps ON ps.id = r.previous_stage_id
              JOIN crm_stage sk ON sk.sequence > ps.sequence
                               AND sk.sequence < s.sequence
                               AND sk.active
                               AND %(of_team)s
             WHERE r.change_type IN ('stage', 'won')
            """,
            rows=rows,
            of_team=compat.stage_of_team_sql("sk", SQL("r.team_id")),
        )

    def _compute_skipped_stage_ids(self):
        skips = (
            self.env["crm.lead.stage.history.skip"]
            .sudo()
            ._read_group(
                [("history_id", "in", self.ids)], ["history_id"], ["stage_id:array_agg"]
            )
        )
        stage_ids = {history.id: ids for history, ids in skips}
        Stage = self.env["crm.stage"]
        for row in self:
            row.skipped_stage_ids = Stage.browse(stage_ids.get(row.id, [])).sorted()

    def _compute_is_manager(self):
        self.is_manager = self.env.user.has_group("sales_team.group_sale_manager")

    @api.constrains("date_stage", "date_enter")
    def _check_date_stage(self):
        today = fields.Date.context_today(self)
        for row in self:
            if row.date_stage and row.date_stage > today:
                raise ValidationError(
                    self.env._("The stage date cannot be in the future.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "The stage history is written by the opportunities themselves; "
                    "it cannot be created by hand."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if set(vals) - {"date_stage"}:
                raise AccessError(
                    self.env._(
                        "Only the stage date of a stage history row can be changed."
                    )
                )
            if not self.env.user.has_group("sales_team.group_sale_manager"):
                raise AccessError(
                    self.env._(
                        "Only a sales manager can change a stage date in the history."
                    )
                )
        result = super().write(vals)
        if "date_stage" in vals and not self.env.context.get(
            "sales_funnel_history_sync"
        ):
            leads = self.lead_id
            # the open row's date is the opportunity's stage date
            for row in self.filtered(
                lambda row: not row.date_leave
                and row.change_type not in ("lost", "restore")
            ):
                row.lead_id.with_context(sales_funnel_history_sync=True).write(
                    {"date_stage": row.date_stage}
                )
            self.flush_recordset(["date_stage"])
            leads._stage_history_recompute_durations()
            leads._stage_history_check_dates()
        return result

    # pylint: disable=method-required-super
    def unlink(self):
        """Refused, whoever asks: a row goes away with its opportunity only
        (ondelete="cascade" in the database), so no ``super()``."""
        raise UserError(
            self.env._(
                "The stage history cannot be deleted; "
                "it goes away with its opportunity."
            )
        )


class CrmLeadStageHistorySkip(models.Model):
    """A stage that a history row's move skipped, with the columns the stage
    analysis filters and groups on, so that it reads skipped stages without
    going through the history again. Written with its history row, in SQL."""

    _name = "crm.lead.stage.history.skip"
    _description = "Opportunity Stage Skipped"
    _log_access = False
    _order = "id"

    history_id = fields.Many2one(
        "crm.lead.stage.history",
        string="Stage History",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Skipped Stage",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="set null", readonly=True
    )
    salesperson_id = fields.Many2one(
        "res.users", string="Salesperson", ondelete="set null", readonly=True
    )
    company_id = fields.Many2one(related="lead_id.company_id", string="Company")
    report_company_id = fields.Many2one(
        "res.company", string="Company (analysis)", readonly=True
    )
    date_enter = fields.Datetime(string="Moved", readonly=True)
