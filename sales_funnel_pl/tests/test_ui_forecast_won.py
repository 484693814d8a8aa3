from odoo import fields
from odoo.tests import tagged

from .common import SalesFunnelTourCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUiForecastWon(SalesFunnelTourCommon):
    tour_users = ("user_manager",)
    tour_opportunities = None

    def test_forecast_won_tour(self):
        # the manager's day in Warsaw: the month the report shows her (the
        # UTC day is yesterday's month in the first hours of a month)
        today = fields.Date.context_today(
            self.user_manager.with_user(self.user_manager)
        )
        self._create_opportunity(
            "Prognozowana", self.stage_order, 1000, today, user=self.user_manager
        )
        # the forecast saved on the month's first day
        self.env["sales.funnel.forecast.snapshot"]._take_snapshot(
            self.company, today.replace(day=1)
        )
        won = self._create_opportunity(
            "Wygrana", self.stage_order, 500, user=self.user_manager
        )
        won.action_set_won()
        self.env["sales.funnel.target"].create(
            {"date": today, "team_id": self.team.id, "amount": 625}
        )
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_forecast_won", login="sfp_manager"
        )
