# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestBoardEmptyUi(HttpCase, SalesFunnelCommon):
    """A band or figure of 0 opens an empty list that says so, in Polish,
    without the sample records crm's views show in an empty view (list and
    kanban); crm's own pipeline keeps its sample records."""

    browser_size = "1366x768"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.user_salesman.write({"lang": "pl_PL", "tour_enabled": False})
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
