# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SalesFunnelCommon, SalesFunnelTourCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestUi(SalesFunnelTourCommon):
    # the test database's opportunities stay (a company's own)
    tour_opportunities = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_salesman.sale_team_id = cls.team

    def test_pipeline_tour(self):
        lead = self._create_opportunities(
            1, self.stage_new, name="Wdrożenie ERP – Stalprofil"
        )
        # predictive lead scoring's estimate, far from the stage's probability
        self.env.cr.execute(
            "UPDATE crm_lead SET automated_probability = 98.39 WHERE id = %s", [lead.id]
        )
        lead.invalidate_recordset(["automated_probability"])
        self.start_tour("/odoo/crm", "sales_funnel_pl_pipeline", login="sfp_salesman")
        self.assertEqual(lead.stage_id, self.stage_meeting)
        self.assertEqual(lead.probability, 3)
        self.assertEqual(lead.next_action, "Wysłać ofertę")
        self.assertEqual(lead.next_activity_id.summary, "Wysłać ofertę")
        self.assertEqual(lead.next_activity_id.user_id, self.user_salesman)
        self.assertEqual(
            lead.next_action_date,
            fields.Date.context_today(lead.with_user(self.user_salesman)),
        )
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
        today = fields.Date.today()
        next_month = today + relativedelta(months=1)
        # the manager's own
        anna = {"user": self.user_manager, "user_id": self.user_manager.id}
        new, meeting = self.stage_new, self.stage_meeting
        self._create_opportunity("L1", new, 5000, **anna)
        self._create_opportunity("L2", meeting, 20000, next_month, **anna)
        moved = self._create_opportunity("L3", new, 10000, next_month, **anna)
        moved.write({"stage_id": meeting.id})
        two_months_ago = today - relativedelta(months=2)
        self._create_opportunity("L4", self.stage_order, 1000, two_months_ago, **anna)
        self.start_tour("/odoo/crm", "sales_funnel_pl_reports", login="sfp_manager")

    def test_settings_tour(self):
        self.env.ref("base.user_admin").write({"lang": "pl_PL", "tour_enabled": False})
        self.start_tour(
            "/odoo/action-crm.crm_config_settings_action",
            "sales_funnel_pl_settings",
            login="admin",
        )

    def test_menus_tour(self):
        self.user_manager.write({"lang": "pl_PL", "tour_enabled": False})
        self.start_tour("/odoo/crm", "sales_funnel_pl_menus", login="sfp_manager")

    def test_stage_map_nothing_to_map_tour(self):
        self.user_manager.write({"lang": "pl_PL", "tour_enabled": False})
        # a database with demo data keeps opportunities in Odoo's stages
        self.env["crm.lead"].with_context(
            active_test=False, sales_funnel_stage_mapping=True
        ).search([("stage_id", "not in", self.stages.ids)]).write(
            {"stage_id": self.stage_new.id}
        )
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_stage_map_nothing", login="sfp_manager"
        )

    def test_reassign_tour(self):
        self.user_manager.write({"lang": "pl_PL", "tour_enabled": False})
        leaving = self._create_user("sfp_leaving", "Piotr Wiśniewski")
        # Piotr's, entered by the sales manager
        piotr = {"user": self.user_manager, "user_id": leaving.id}
        servers = self._create_opportunity(
            "Dostawa serwerów", self.stage_meeting, **piotr
        )
        hall = self._create_opportunity("Modernizacja hali", self.stage_new, **piotr)
        won = self._create_opportunity("Wygrana umowa", self.stage_won, **piotr)
        activity = servers.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=leaving.id,
            summary="Zadzwonić do klienta",
        )
        leaving.write({"active": False})
        self.start_tour("/odoo/crm", "sales_funnel_pl_reassign", login="sfp_manager")
        self.env.invalidate_all()
        self.assertEqual((servers | hall).user_id, self.user_salesman)
        self.assertEqual(activity.user_id, self.user_salesman)
        self.assertEqual(won.user_id, leaving)

    def test_funnel_graph_tour(self):
        """A salesperson's funnel graph shows every stage, empty ones too."""
        self._create_opportunities(1, self.stage_new)
        self._create_opportunities(2, self.stage_meeting)
        self._create_opportunities(1, self.stage_won)
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_funnel_graph", login="sfp_salesman"
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestJsonRpcBadInput(HttpCase, SalesFunnelCommon):
    """Bad input over JSON-RPC, as a salesperson: a clear error each time and
    the database unchanged."""

    def _call(self, model, method, *args):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": list(args),
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def _state(self, lead):
        lead.invalidate_recordset()
        return (
            lead.stage_id,
            lead.probability,
            lead.next_action,
            lead.date_stage,
            len(lead.stage_history_ids),
            len(lead.activity_ids),
        )

    def test_bad_input(self):
        lead = self._create_opportunities(1, self.stage_meeting)
        row = lead.stage_history_ids
        before = self._state(lead)
        self.authenticate("sfp_salesman", "sfp_salesman")
        cases = [
            (
                "crm.lead",
                [lead.ids, {"stage_id": "abc"}],
                "odoo.exceptions.ValidationError",
                "A stage is given by its id (a whole number), not 'abc'.",
            ),
            (
                "crm.lead",
                [lead.ids, {"stage_id": 999999}],
                "odoo.exceptions.ValidationError",
                "The stage 999999 does not exist.",
            ),
            (
                "crm.lead",
                [lead.ids, {"probability": 1e9}],
                "odoo.exceptions.ValidationError",
                "The probability of Szansa 0 must be between 0% and 100%.",
            ),
            (
                "crm.lead",
                [lead.ids, {"date_stage": "31/12/2026"}],
                "builtins.ValueError",
                "time data '31/12/2026' does not match format '%Y-%m-%d'",
            ),
            (
                "crm.lead",
                [lead.ids, {"next_action": "x" * 10000}],
                "odoo.exceptions.ValidationError",
                "The next action of Szansa 0 is too long (10000 characters): "
                "write it in at most 500 characters and put the details in the notes.",
            ),
            (
                "crm.lead",
                [lead.ids, {"expected_revenue": -5}],
                "odoo.exceptions.ValidationError",
                "The expected revenue of Szansa 0 cannot be negative.",
            ),
            (
                "crm.lead.stage.history",
                [row.ids, {"date_stage": "2026-01-01"}],
                "odoo.exceptions.AccessError",
                None,
            ),
            (
                "crm.stage",
                [self.stage_meeting.ids, {"probability": 50}],
                "odoo.exceptions.AccessError",
                None,
            ),
        ]
        for model, args, error_name, message in cases:
            with (
                self.subTest(model=model, args=str(args)[:80]),
                mute_logger("odoo.http", "odoo.sql_db"),
            ):
                error = self._call(model, "write", *args)["error"]["data"]
                self.assertEqual(error["name"], error_name)
                if message:
                    self.assertEqual(error["message"], message)
                self.assertEqual(self._state(lead), before)
        self.assertEqual(self.stage_meeting.probability, 3)
