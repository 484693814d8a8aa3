# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestBoardRpc(HttpCase, SalesFunnelCommon):
    """The funnel board's public methods answer both of Odoo's RPC
    protocols, over HTTP on the test server, as a Polish salesperson's
    client calls them: XML-RPC (``/xmlrpc/2/object``) and JSON-RPC
    (``/jsonrpc``), with the context the user's ``context_get`` gives.

    This month, Jan's two opportunities started in "Nowy Prospekt", neither
    won nor lost, and no target: the win rate, the sales cycle, the target
    and its attainment cannot be computed, nor the conversion from an empty
    band: each is False (XML-RPC sends no None)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.user_salesman.lang = "pl_PL"
        # the test database may hold other stages and opportunities
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        cls.env["crm.lead"].search([]).active = False
        cls._create_opportunities(2, cls.stages[0])

    def _execute_kw(self, model, method, args, kwargs):
        """execute_kw's arguments as Jan, the same for both protocols."""
        user = self.user_salesman
        return [self.env.cr.dbname, user.id, user.login, model, method, args, kwargs]

    def _xmlrpc(self, *call):
        return self.xmlrpc_object.execute_kw(*self._execute_kw(*call))

    def _jsonrpc(self, *call):
        return self.make_jsonrpc_request(
            "/jsonrpc",
            {
                "service": "object",
                "method": "execute_kw",
                "args": self._execute_kw(*call),
            },
        )

    # 19.0 logs a deprecation notice for each call to these endpoints
    @mute_logger(
        "odoo.addons.rpc.controllers.xmlrpc", "odoo.addons.rpc.controllers.jsonrpc"
    )
    def test_board_over_both_protocols(self):
        for call in (self._xmlrpc, self._jsonrpc):
            with self.subTest(protocol=call.__name__):
                context = call("res.users", "context_get", [], {})
                self.assertEqual(
                    (context["lang"], context["tz"]), ("pl_PL", "Europe/Warsaw")
                )
                filters = call(
                    "sales.funnel.board", "get_board_filters", [], {"context": context}
                )
                self.assertEqual(
                    (filters["users"], filters["own_only"]),
                    ([{"id": self.user_salesman.id, "name": "Jan Kowalski"}], True),
                )
                data = call(
                    "sales.funnel.board",
                    "get_board_data",
                    [],
                    {"reading": "cohort", "period": "month", "context": context},
                )
                head = data["headline"]
                self.assertEqual(
                    (
                        head["open"]["count"],
                        head["open"]["expected_revenue"],
                        head["win_rate"]["value"],
                        head["cycle_days"]["value"],
                        head["target"]["value"],
                        head["target"]["due"],
                        head["target"]["attainment"],
                    ),
                    (2, 20000.0, False, False, False, False, False),
                )
                # False itself, not a 0 that equals it: an empty figure is
                # not a figure of 0 (the board shows "–", not "0 zł")
                for key, value in (
                    ("win_rate", head["win_rate"]["value"]),
                    ("cycle_days", head["cycle_days"]["value"]),
                    ("target", head["target"]["value"]),
                    ("due", head["target"]["due"]),
                    ("attainment", head["target"]["attainment"]),
                ):
                    self.assertIs(value, False, key)
                self.assertEqual(
                    [
                        (band["name"], band["count"], band["conversion"])
                        for band in data["bands"][:3]
                    ],
                    [
                        ("Nowy Prospekt", 2, False),
                        ("Informacje o potrzebie", 0, 0.0),
                        ("Firma", 0, False),
                    ],
                )
                # the domains come as lists, the dates as strings: the web
                # client's
                self.assertEqual(
                    head["won"]["domain"][-2:],
                    [
                        ["date_process_end", ">=", data["date_from"]],
                        ["date_process_end", "<=", data["date_to"]],
                    ],
                )
        # the same answer over both
        context = {"lang": "pl_PL", "tz": "Europe/Warsaw"}
        kwargs = {"reading": "now", "period": "year", "context": context}
        self.assertEqual(
            self._xmlrpc("sales.funnel.board", "get_board_data", [], kwargs),
            self._jsonrpc("sales.funnel.board", "get_board_data", [], kwargs),
        )
