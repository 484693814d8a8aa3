# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestBoardEmptyUi(HttpCase, SalesFunnelCommon):
    """The lists the board's figures open, in the browser: a band or figure
    of 0 opens an empty list that says so, in Polish, without the sample
    records crm's views show in an empty view (list and kanban; crm's own
    pipeline keeps its sample records); the target opens the rows it sums,
    whose total is the figure."""

    browser_size = "1366x768"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        (cls.user_salesman | cls.user_manager).write(
            {"lang": "pl_PL", "tour_enabled": False}
        )
        # the test database may hold other stages, opportunities and
        # targets: Jan has none
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        cls.env["crm.lead"].search([]).active = False
        cls.env["sales.funnel.target"].search([]).unlink()

    def test_empty_figures(self):
        self.start_tour(
            "/odoo/sales-funnel-board",
            "sales_funnel_pl_board_empty",
            login="sfp_salesman",
        )
        # crm's pipeline, empty for Jan: its sample cards, as crm has them
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_pipeline_sample", login="sfp_salesman"
        )

    def test_target_total(self):
        """Two months of the last twelve, each with the team's target of
        100 000 of which Jan's 30 000: the figure is 200 000, and so is the
        total of the list it opens (the team's totals beside Jan's share of
        them made 260 000)."""
        this_month = fields.Date.today().replace(day=1)
        self.env["sales.funnel.target"].create(
            [
                {
                    "date": month,
                    "team_id": self.team.id,
                    "user_id": user.id,
                    "amount": amount,
                }
                for month in (this_month, this_month - relativedelta(months=2))
                for user, amount in (
                    (self.env["res.users"], 100000),
                    (self.user_salesman, 30000),
                )
            ]
        )
        self.start_tour(
            "/odoo/sales-funnel-board",
            "sales_funnel_pl_board_target_total",
            login="sfp_manager",
        )
