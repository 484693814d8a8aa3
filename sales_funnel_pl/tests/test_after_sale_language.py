# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestAfterSaleLanguage(SalesFunnelCommon):
    """The post-sale next action planned on a win reads in the language of
    the salesperson who will do it, not in the winner's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls._setup_real_company()
        cls.user_salesman.lang = "pl_PL"
        cls.user_salesman_utc.lang = "en_US"
        cls.user_manager.lang = "en_US"
        cls.after_sale = cls.env.ref("sales_funnel_pl.mail_activity_type_after_sale")

    def test_an_english_manager_wins_a_polish_and_an_english_sale(self):
        polish = self._create_opportunities(2, self.stage_order)
        english = self._create_opportunities(
            1, self.stage_order, self.user_manager, user_id=self.user_salesman_utc.id
        )
        (polish | english).with_user(self.user_manager).write(
            {"stage_id": self.stage_won.id}
        )
        self.assertEqual(
            polish.activity_ids.mapped("summary"),
            [
                "Utrzymanie dobrych stosunków posprzedażnych z Klientem. "
                "Zaprojektowanie następnych działań mających na celu zwiększenie "
                "sprzedaży oraz utrzymanie Klienta."
            ]
            * 2,
        )
        self.assertEqual(polish.activity_ids.user_id, self.user_salesman)
        self.assertEqual(
            english.activity_ids.mapped("summary"),
            ["Keep good relations with the customer and plan the next sales"],
        )
        self.assertEqual(english.activity_ids.user_id, self.user_salesman_utc)
        self.assertEqual(
            (polish | english).activity_ids.activity_type_id, self.after_sale
        )
