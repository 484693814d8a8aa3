from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import tagged

from .common import SalesFunnelTourCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesFunnelBoardUi(SalesFunnelTourCommon):
    # a laptop's screen (Odoo's default): the headline figures fit on one row
    browser_size = "1366x768"

    def test_board_tour(self):
        """A salesperson reads the funnel (its headline on one row; only
        himself to choose among the salespeople), changes period and team,
        opens a band: exactly the opportunities it counts."""
        s = self.stages
        meeting = self._create_opportunities(1, s[0], name="Spotkanie u klienta")
        self._create_opportunities(1, s[0], name="Modernizacja hali")
        request = self._create_opportunities(1, s[0], name="Zapytanie ofertowe")
        self._create_opportunities(
            1,
            s[0],
            name="Letnia oferta",
            date_process_start=fields.Date.today() - relativedelta(months=4),
        )
        team_b = self.env["crm.team"].create({"name": "Zespół Południe"})
        self._create_opportunities(1, s[0], name="Audyt", team_id=team_b.id)
        meeting.stage_id = s[2]  # skips Informacje o potrzebie
        request.stage_id = s[1]
        self.start_tour("/odoo/crm", "sales_funnel_pl_board", login="sfp_salesman")

    def test_board_filters_from_the_url(self):
        """A link to the board with its filters (as a reload reads the URL):
        the reading, period and team it names, on both series (19.0 gives a
        client action loaded by its path no parameters of its own)."""
        self._create_opportunities(1, self.stages[0])
        other_team = self.env["crm.team"].create({"name": "Zespół Południe"})
        self._create_opportunities(1, self.stages[0], team_id=other_team.id)
        self.start_tour(
            f"/odoo/sales-funnel-board?reading=now&period=year&team_id={self.team.id}",
            "sales_funnel_pl_board_from_url",
            login="sfp_salesman",
        )

    def test_board_other_salesperson(self):
        """A link to another salesperson's board, opened by a salesperson who
        sees only his own opportunities: his own funnel, the filter saying
        so (the other's opportunities are not his to count)."""
        self._create_opportunities(2, self.stages[0])
        self._create_opportunities(
            3, self.stages[0], user=self.user_manager, user_id=self.user_manager.id
        )
        self.start_tour(
            f"/odoo/sales-funnel-board?user_id={self.user_manager.id}",
            "sales_funnel_pl_board_other_salesperson",
            login="sfp_salesman",
        )
