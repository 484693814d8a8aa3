# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import SalesFunnelTourCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUiPipelineChanges(SalesFunnelTourCommon):
    """ "Zmiany w lejku" as a sales manager opens it: the waterfall's bars
    float, each change from where the ones before it ended, up in green
    when it added to the open pipeline, down in red when it took from it,
    the open pipeline at the end standing on zero where the last change
    ended (the tour reads the bars drawn)."""

    tour_users = ("user_manager",)

    def test_pipeline_changes_tour(self):
        manager = self.user_manager
        # created four hours ago, changed in the hours since (each change a
        # moment of its own, inside the default period)
        now = fields.Datetime.now()
        with freeze_time(now - timedelta(hours=4)):
            hala = self._create_opportunity(
                "Hala", self.stage_meeting, 20000, user=manager
            )
            brama = self._create_opportunity(
                "Brama", self.stage_order, 10000, user=manager
            )
            wiata = self._create_opportunity(
                "Wiata", self.stage_meeting, 5000, user=manager
            )
        self.assertEqual(
            (hala.probability, brama.probability, wiata.probability), (3, 80, 3)
        )
        with freeze_time(now - timedelta(hours=3)):
            hala.with_user(manager).write({"expected_revenue": 30000})
        with freeze_time(now - timedelta(hours=2)):
            brama.with_user(manager).action_set_won()
        with freeze_time(now - timedelta(hours=1)):
            wiata.with_user(manager).action_set_lost()
        self.env.flush_all()
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_pipeline_changes", login="sfp_manager"
        )
