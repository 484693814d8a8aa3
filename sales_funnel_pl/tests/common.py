# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields
from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user

from .. import compat


class SalesFunnelCommon(TransactionCase):
    """Users, a team and opportunities built for the tests, on the funnel's
    own stages (module data, not demo data)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.ref("base.main_company")
        cls.user_salesman = mail_new_test_user(
            cls.env,
            login="sfp_salesman",
            name="Jan Kowalski",
            email="jan.kowalski@example.com",
            groups="sales_team.group_sale_salesman",
            notification_type="inbox",
            tz="Europe/Warsaw",
        )
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="sfp_manager",
            name="Anna Nowak",
            email="anna.nowak@example.com",
            groups="sales_team.group_sale_manager",
            notification_type="inbox",
            tz="Europe/Warsaw",
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Zespół Testowy",
                "member_ids": [
                    (4, cls.user_salesman.id),
                    (4, cls.user_manager.id),
                ],
            }
        )
        cls.stages = cls.env["crm.stage"].browse(
            cls.env.ref(f"sales_funnel_pl.stage_{number:02d}").id
            for number in range(1, 18)
        )
        cls.stage_new, cls.stage_meeting = cls.stages[0], cls.stages[3]
        cls.stage_order, cls.stage_won = cls.stages[13], cls.stages[16]
        cls.partner = cls.env["res.partner"].create(
            {"name": "Stalprofil Sp. z o.o.", "is_company": True}
        )

    def setUp(self):
        super().setUp()
        # crm and the history date stage changes with the transaction's time
        # (cr.now()); in tests it follows the (frozen) clock
        self.patch(type(self.env.cr), "now", lambda cr: fields.Datetime.now())

    @classmethod
    def _setup_real_company(cls):
        """Data shaped like a real company's, beside the funnel's team: a
        second company with its own salesperson, a team working crm's own
        stages (not the funnel's), a non-sales colleague who plans activities
        on opportunities (an accountant), and a salesperson writing in UTC
        (an API client, a scheduled action, a user without a time zone)."""
        cls.company_b = cls.env["res.company"].create({"name": "Stalprofil Sever"})
        cls.user_salesman.write({"company_ids": [(4, cls.company_b.id)]})
        cls.user_manager.write({"company_ids": [(4, cls.company_b.id)]})
        cls.user_salesman_utc = mail_new_test_user(
            cls.env,
            login="sfp_salesman_utc",
            name="John Smith",
            email="john.smith@example.com",
            groups="sales_team.group_sale_salesman_all_leads",
            notification_type="inbox",
            tz="UTC",
        )
        cls.user_salesman_b = mail_new_test_user(
            cls.env,
            login="sfp_salesman_b",
            name="Ewa Maj",
            email="ewa.maj@example.com",
            groups="sales_team.group_sale_salesman",
            notification_type="inbox",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
            tz="Europe/Warsaw",
        )
        cls.user_accountant = mail_new_test_user(
            cls.env,
            login="sfp_accountant",
            name="Zofia Rachunek",
            email="zofia.rachunek@example.com",
            groups="base.group_user",
            notification_type="inbox",
            tz="Europe/Warsaw",
        )
        cls.team.write({"member_ids": [(4, cls.user_salesman_utc.id)]})
        # a team with stages of its own, outside the funnel
        cls.team_other = cls.env["crm.team"].create(
            {"name": "Serwis", "member_ids": [(4, cls.user_salesman_utc.id)]}
        )
        cls.other_stages = cls.env["crm.stage"].create(
            [
                {
                    "name": name,
                    "sequence": 200 + index,
                    "is_won": name == "Zamknięte",
                    "is_funnel_stage": False,
                    **compat.stage_team_values(cls.team_other),
                }
                for index, name in enumerate(["Zgłoszenie", "Wycena", "Zamknięte"])
            ]
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Zespół Północ",
                "company_id": cls.company_b.id,
                "member_ids": [(4, cls.user_salesman_b.id)],
            }
        )

    @classmethod
    def _load_polish(cls):
        """Polish active, with the terms of the addon and of the Odoo it shows."""
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "crm", "sales_team", "sales_funnel_pl"],
            ["pl_PL"],
            overwrite=True,
        )

    @classmethod
    def _create_opportunities(cls, count, stage, user=None, **values):
        return (
            cls.env["crm.lead"]
            .with_user(user or cls.user_salesman)
            .create(
                [
                    {
                        "name": f"Szansa {index}",
                        "type": "opportunity",
                        "partner_id": cls.partner.id,
                        "user_id": cls.user_salesman.id,
                        "team_id": cls.team.id,
                        "stage_id": stage.id,
                        "expected_revenue": 10000,
                        **values,
                    }
                    for index in range(count)
                ]
            )
        )
