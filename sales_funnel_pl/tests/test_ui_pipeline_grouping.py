# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import SalesFunnelTourCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUiPipelineGrouping(SalesFunnelTourCommon):
    """The pipeline opens every stage; grouped by anything else, Odoo's
    kanban keeps its own limit of open groups."""

    # a Polish sales manager, as the addon's users are (whatever the
    # languages of the test database)
    tour_users = ("user_manager",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # more salespeople than Odoo's kanban opens groups (10)
        salespeople = cls.user_manager | cls.env["res.users"].union(
            *(
                cls._create_user(f"sfp_salesman_{index:02d}", f"Sprzedawca {index:02d}")
                for index in range(1, 12)
            )
        )
        cls.env["crm.lead"].create(
            [
                {
                    "name": f"Szansa {user.name}",
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": cls.team.id,
                    "stage_id": cls.stage_new.id,
                }
                for user in salespeople
            ]
        )

    def test_pipeline_grouped_by_salesperson_tour(self):
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_pipeline_grouping", login="sfp_manager"
        )
