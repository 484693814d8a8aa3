from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUi(HttpCase, SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "crm", "sales_team", "sales_funnel_pl"],
            ["pl_PL"],
            overwrite=True,
        )
        cls.user_salesman.write({"lang": "pl_PL", "tour_enabled": False})
        cls.user_salesman.sale_team_id = cls.team
        # the test database may hold other stages: keep the funnel's 17 only
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False

    def test_pipeline_tour(self):
        lead = self._create_opportunities(1, self.stage_new, name="Wdrożenie ERP – Stalprofil")
        self.start_tour("/odoo/crm", "sales_funnel_pl_pipeline", login="sfp_salesman")
        self.assertEqual(lead.stage_id, self.stage_meeting)
        self.assertEqual(lead.probability, 3)
        self.assertEqual(lead.next_action, "Wysłać ofertę")
        self.assertEqual(lead.next_activity_id.summary, "Wysłać ofertę")
        self.assertEqual(lead.next_activity_id.user_id, self.user_salesman)
        self.assertEqual(
            lead.stage_history_ids.sorted("id").mapped("stage_id"),
            self.stage_new | self.stage_meeting,
        )

    def test_rpc_write(self):
        lead = self._create_opportunities(1, self.stage_new)
        self.authenticate("sfp_salesman", "sfp_salesman")
        self.make_jsonrpc_request(
            "/web/dataset/call_kw/crm.lead/write",
            {
                "model": "crm.lead",
                "method": "write",
                "args": [lead.ids, {"stage_id": self.stage_order.id}],
                "kwargs": {},
            },
        )
        lead.invalidate_recordset()
        self.assertEqual(lead.stage_id, self.stage_order)
        self.assertEqual(lead.probability, 80)

    def test_reports_tour(self):
        self.user_manager.write({"lang": "pl_PL", "tour_enabled": False})
        next_month = fields.Date.today() + relativedelta(months=1)
        Lead = self.env["crm.lead"].with_user(self.user_manager)
        values = {"type": "opportunity", "team_id": self.team.id,
                  "user_id": self.user_manager.id}
        Lead.create([
            dict(values, name="L1", stage_id=self.stage_new.id, expected_revenue=5000),
            dict(values, name="L2", stage_id=self.stage_meeting.id, expected_revenue=20000,
                 date_deadline=next_month),
        ])
        moved = Lead.create(dict(values, name="L3", stage_id=self.stage_new.id,
                                 expected_revenue=10000, date_deadline=next_month))
        moved.write({"stage_id": self.stage_meeting.id})
        self.start_tour("/odoo/crm", "sales_funnel_pl_reports", login="sfp_manager")
