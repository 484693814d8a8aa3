# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import inspect
from datetime import timedelta

from odoo import api, fields
from odoo.tests import HttpCase, tagged

from .. import compat
from .common import SalesFunnelCommon

ADDON_PACKAGE = "odoo.addons.sales_funnel_pl"
REPORT_MODELS = (
    "crm.lead",
    "sales.funnel.forecast.report",
    "sales.funnel.stage.report",
    "crm.lead.stage.history",
    "sales.funnel.board",
)
OPEN = [("type", "=", "opportunity"), ("probability", "<", 100)]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestReplicaReady(HttpCase, SalesFunnelCommon):
    """Odoo 18.0 and 19.0 send the RPC calls of methods marked
    ``@api.readonly`` to a read-only replica when one is configured
    (``--db_replica_host``). The reads of the addon's reports must keep that
    mark, and must work on a read-only cursor."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._create_opportunities(1, cls.stage_meeting, name="Odczyt")
        cls.env.flush_all()

    @staticmethod
    def _call_kw_readonly(model_class, method_name):
        """Whether call_kw runs ``method_name`` on a read-only cursor: the
        mark of the first method of that name up the class hierarchy that
        carries one, as web's ``DataSet._call_kw_readonly`` reads it (the
        same in 18.0 and 19.0)."""
        for cls in model_class.mro():
            method = getattr(cls, method_name, None)
            if method is not None and hasattr(method, "_readonly"):
                return method._readonly
        return False

    def _addon_methods(self, model_name):
        """{name: function} of the public methods this addon defines on
        ``model_name`` (callable over RPC)."""
        methods = {}
        for cls in type(self.env[model_name]).mro():
            if not cls.__module__.startswith(ADDON_PACKAGE):
                continue
            for name, member in vars(cls).items():
                if inspect.isfunction(member) and not name.startswith("_"):
                    methods.setdefault(name, member)
        return methods

    def test_read_methods_keep_the_readonly_mark(self):
        """Every read method the addon overrides or adds carries the mark
        itself, and call_kw sees it."""
        read_methods = set()
        for model_name in REPORT_MODELS:
            model_class = type(self.env[model_name])
            for name, function in self._addon_methods(model_name).items():
                # a read method: Odoo's own definition of it is marked
                odoo_marked = any(
                    getattr(vars(cls).get(name), "_readonly", False)
                    for cls in model_class.mro()
                    if not cls.__module__.startswith(ADDON_PACKAGE)
                )
                if odoo_marked or getattr(function, "_readonly", False):
                    read_methods.add((model_name, name))
                    with self.subTest(model=model_name, method=name):
                        self.assertTrue(getattr(function, "_readonly", False))
                        self.assertTrue(self._call_kw_readonly(model_class, name))
        # 18.0: the funnel's fill overrides crm.lead.read_group; 19.0 fills in
        # formatted_read_group and formatted_read_grouping_sets through a
        # private hook, and overrides no read method. The funnel board's
        # reads are the addon's own, marked by it.
        expected = {
            ("sales.funnel.board", "get_board_filters"),
            ("sales.funnel.board", "get_board_data"),
        }
        if not compat.ODOO_19:
            expected.add(("crm.lead", "read_group"))
        self.assertEqual(read_methods, expected)

    def test_web_client_reads_go_to_the_replica(self):
        """The grouped reads the web client of the series sends for the
        reports (list, kanban, graph, pivot) and the plain reads are marked."""
        for model_name in REPORT_MODELS:
            model_class = type(self.env[model_name])
            for name in (
                *compat.GROUPED_READ_METHODS,
                "search_read",
                "web_search_read",
            ):
                with self.subTest(model=model_name, method=name):
                    self.assertTrue(self._call_kw_readonly(model_class, name))

    def _read_only_env(self, cr, user):
        self.assertTrue(cr.readonly)
        return api.Environment(
            cr,
            user.id,
            {
                "lang": "en_US",
                "tz": "Europe/Warsaw",
                "allowed_company_ids": self.company.ids,
            },
        )

    def test_board_reads_on_a_read_only_cursor(self):
        """The funnel board opens on a read-only cursor, as the replica gives
        it, for a salesperson and a manager: its filters, and its data in
        each reading. What it could write there (the furthest stages waiting
        for a stage order change, ``_stage_reached_refresh_pending``, and the
        flushes before its SQL) belongs to the transaction that changed
        something: a request of its own has nothing waiting."""
        for user in (self.user_salesman, self.user_manager):
            with (
                self.subTest(user=user.login),
                self.registry.cursor(readonly=True) as cr,
            ):
                Board = self._read_only_env(cr, user)["sales.funnel.board"]
                filters = Board.get_board_filters()
                self.assertIn(self.team.id, [team["id"] for team in filters["teams"]])
                self.assertIn(user.id, [row["id"] for row in filters["users"]])
                now = Board.get_board_data("now", "month")
                self.assertEqual(
                    {
                        band["stage_id"]: band["count"]
                        for band in now["bands"]
                        if band["count"]
                    },
                    {self.stage_meeting.id: 1},
                )
                self.assertEqual(now["headline"]["open"]["count"], 1)
                cohort = Board.get_board_data("cohort", "last_12_months")
                # entered in Meeting: the stages before it count as passed
                counts = {band["stage_id"]: band["count"] for band in cohort["bands"]}
                self.assertEqual(
                    [counts[stage.id] for stage in self.stages[:5]], [1, 1, 1, 1, 0]
                )

    def test_pipeline_reads_on_a_read_only_cursor(self):
        """The pipeline's cards read the addon's computed fields (the next
        action and its state, the furthest stage) and its progress bars on a
        read-only cursor: nothing is recomputed into the database."""
        today = fields.Date.context_today(self.user_salesman)
        self.lead.with_user(self.user_salesman).activity_schedule(
            "mail.mail_activity_data_call",
            summary="Zadzwonić do klienta",
            date_deadline=today + timedelta(days=3),
        )
        self.env.flush_all()
        with self.registry.cursor(readonly=True) as cr:
            Lead = self._read_only_env(cr, self.user_salesman)["crm.lead"]
            cards = Lead.web_search_read(
                [("id", "=", self.lead.id)],
                {
                    "next_action": {},
                    "next_action_date": {},
                    "next_action_state": {},
                    "stage_reached_id": {"fields": {"display_name": {}}},
                    "activity_state": {},
                },
            )
            self.assertEqual(
                [
                    (
                        card["next_action_state"],
                        card["stage_reached_id"]["id"],
                        card["next_action"],
                    )
                    for card in cards["records"]
                ],
                [("planned", self.stage_meeting.id, "Zadzwonić do klienta")],
            )
            bars = Lead.read_progress_bar(
                [("id", "=", self.lead.id)],
                "stage_id",
                {
                    "field": "activity_state",
                    "colors": {"planned": "success", "overdue": "danger"},
                },
            )
            # one planned activity in one column (the series shape the rest
            # of the answer differently)
            self.assertEqual(
                [
                    (count, state)
                    for bar in bars.values()
                    for state, count in bar.items()
                    if count
                ],
                [(1, "planned")],
            )

    def test_report_reads_on_a_read_only_cursor(self):
        """The funnel (every stage filled in), the forecast and the stage
        analysis read on a read-only cursor, as a replica gives them."""
        with self.registry.cursor(readonly=True) as cr:
            self.assertTrue(cr.readonly)
            env = api.Environment(
                cr,
                self.user_salesman.id,
                {
                    "lang": "en_US",
                    "tz": "Europe/Warsaw",
                    "allowed_company_ids": self.company.ids,
                },
            )
            funnel = compat.grouped_read(
                env["crm.lead"].with_context(sales_funnel_fill_stages=True),
                OPEN,
                ["stage_id"],
                ["expected_revenue:sum", "prorated_revenue:sum"],
            )
            self.assertEqual([row["stage_id"][0] for row in funnel], self.stages.ids)
            self.assertEqual(
                [
                    (row["stage_id"][1], row["__count"])
                    for row in funnel
                    if row["__count"]
                ],
                [("Meeting", 1)],
            )
            forecast = compat.grouped_read(
                env["sales.funnel.forecast.report"],
                [("lead_id", "=", self.lead.id)],
                ["stage_id"],
                ["opportunity_count:sum", "prorated_revenue:sum"],
            )
            self.assertEqual(
                [
                    (
                        row["stage_id"][1],
                        row["opportunity_count"],
                        row["prorated_revenue"],
                    )
                    for row in forecast
                ],
                [("Meeting", 1, 300.0)],
            )
            stages = compat.grouped_read(
                env["sales.funnel.stage.report"],
                [("lead_id", "=", self.lead.id)],
                ["stage_id"],
                ["entered_count:sum", "median_days:median"],
            )
            self.assertEqual(
                [(row["stage_id"][1], row["entered_count"]) for row in stages],
                [("Meeting", 1)],
            )
