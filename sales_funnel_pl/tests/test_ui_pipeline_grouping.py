# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUiPipelineGrouping(HttpCase, SalesFunnelCommon):
    """The pipeline opens every stage; grouped by anything else, Odoo's
    kanban keeps its own limit of open groups."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a Polish sales manager, as the addon's users are (whatever the
        # languages of the test database)
        cls._load_polish()
        cls.user_manager.write({"lang": "pl_PL", "tour_enabled": False})
        # the test database may hold other stages and opportunities
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        cls.env["crm.lead"].search([]).active = False
        # more salespeople than Odoo's kanban opens groups (10)
        salespeople = cls.user_manager | cls.env["res.users"].union(
            *(
                mail_new_test_user(
                    cls.env,
                    login=f"sfp_salesman_{index:02d}",
                    name=f"Sprzedawca {index:02d}",
                    groups="sales_team.group_sale_salesman",
                )
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
