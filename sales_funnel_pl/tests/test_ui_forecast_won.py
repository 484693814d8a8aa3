from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUiForecastWon(HttpCase, SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "crm", "sales_team", "sales_funnel_pl"],
            ["pl_PL"],
            overwrite=True,
        )
        cls.user_manager.write({"lang": "pl_PL", "tour_enabled": False})

    def test_forecast_won_tour(self):
        # the manager's day in Warsaw: the month the report shows her (the
        # UTC day is yesterday's month in the first hours of a month)
        today = fields.Date.context_today(
            self.user_manager.with_user(self.user_manager)
        )
        self._create_opportunities(
            1,
            self.stage_order,
            user=self.user_manager,
            name="Prognozowana",
            expected_revenue=1000,
            date_deadline=today,
        )
        # the forecast saved on the month's first day
        self.env["sales.funnel.forecast.snapshot"]._take_snapshot(
            self.company, today.replace(day=1)
        )
        won = self._create_opportunities(
            1,
            self.stage_order,
            user=self.user_manager,
            name="Wygrana",
            expected_revenue=500,
        )
        won.action_set_won()
        self.env["sales.funnel.target"].create(
            {"date": today, "team_id": self.team.id, "amount": 625}
        )
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_forecast_won", login="sfp_manager"
        )
