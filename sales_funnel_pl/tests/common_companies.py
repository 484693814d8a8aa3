# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from .common import SalesFunnelCommon


class SalesFunnelCompaniesCommon(SalesFunnelCommon):
    """Two companies (``_setup_real_company``) and a sales manager of the
    first one only; the wizards are run as a sales manager whose company
    switcher shows the first company only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()
        cls.user_manager_a = cls._create_user(
            "sfp_manager_a",
            "Marta Wójcik",
            "sales_team.group_sale_manager",
            email="marta.wojcik@example.com",
        )

    def _env_switcher_a(self):
        """The test's environment, the company switcher showing the first
        company only (as the web client sends it)."""
        return self.env(
            context=dict(self.env.context, allowed_company_ids=self.company.ids)
        )
