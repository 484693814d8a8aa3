# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import io
import json
import zipfile
from datetime import date, datetime, time, timedelta
from urllib.parse import unquote
from xml.etree import ElementTree

from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import http
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from .. import compat
from .common import SalesFunnelCommon, client_eval_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
INDENT = "     "  # the pivot export indents each row level by five spaces
OPEN = [("type", "=", "opportunity"), ("probability", "<", 100)]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestReportsRpc(HttpCase, SalesFunnelCommon):
    """The reports over HTTP as the web client uses them: the pivot's xlsx
    export of each report, and what JSON-RPC gives to users of one company
    when a second company has its own opportunities and history.

    Company 1 (team "Zespół Testowy", Jan): A open in Meeting, B lost, C won
    today, D unassigned; E belongs to another team and salesperson (Ewa).
    Company 2 (team "Zespół Kraków", Piotr): Q1 open in Meeting, Q2
    unassigned, Q3 won today."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # known data only: the funnel's 17 stages and the opportunities below
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        cls.env["crm.lead"].with_context(active_test=False).search([]).unlink()
        s = cls.stages
        cls.company_2 = cls.env["res.company"].create(
            {"name": "Stalbud Kraków Sp. z o.o."}
        )
        # users without a time zone of their own (UTC)
        cls.user_other = cls._create_other_salesperson(team=False, tz=False)
        cls.user_salesman_2 = cls._create_user(
            "sfp_krakow_rep", "Piotr Wiśniewski", company=cls.company_2, tz=False
        )
        cls.user_manager_both = cls._create_user(
            "sfp_manager_both",
            "Barbara Lewandowska",
            "sales_team.group_sale_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, (cls.company | cls.company_2).ids)],
            tz=False,
        )
        # the sheets and snapshots below are in English, whatever language the
        # database was created in: English active, and the users' own language
        # (the web client's) English
        cls.env["res.lang"]._activate_lang("en_US")
        (
            cls.user_salesman
            | cls.user_manager
            | cls.user_other
            | cls.user_salesman_2
            | cls.user_manager_both
        ).lang = "en_US"
        # in a multi-company database each team belongs to a company
        cls.team.company_id = cls.company
        cls.team_other = cls.env["crm.team"].create(
            {
                "name": "Zespół Północ",
                "company_id": cls.company.id,
                "member_ids": [(4, cls.user_other.id)],
            }
        )
        cls.team_2 = cls.env["crm.team"].create(
            {
                "name": "Zespół Kraków",
                "company_id": cls.company_2.id,
                "member_ids": [(4, cls.user_salesman_2.id)],
            }
        )
        cls.today = date.today()
        cls.deadline_2 = cls.today + relativedelta(months=2)
        cls.deadline_3 = cls.today + relativedelta(months=3)
        piotr = {
            "user": cls.user_salesman_2,
            "user_id": cls.user_salesman_2.id,
            "team_id": cls.team_2.id,
        }
        with cls._days_ago(10):
            cls.lead_a = cls._create_opportunities(
                1, s[0], name="A", expected_revenue=10000, date_deadline=cls.deadline_2
            )
            cls.lead_b = cls._create_opportunities(
                1, s[0], name="B", expected_revenue=5000
            )
            cls.lead_q1 = cls._create_opportunities(
                1,
                s[0],
                name="Q1",
                expected_revenue=7000,
                date_deadline=cls.deadline_2,
                **piotr,
            )
        with cls._days_ago(9):
            cls.lead_b.action_set_lost()
            cls.lead_q1.write({"stage_id": s[3].id})  # skips 2 stages
        with cls._days_ago(8):
            cls.lead_a.write({"stage_id": s[1].id})
            cls.lead_q2 = cls._create_opportunities(
                1, s[1], name="Q2", expected_revenue=3000, **dict(piotr, user_id=False)
            )
        with cls._days_ago(7):
            cls.lead_e = cls._create_opportunities(
                1,
                s[0],
                name="E",
                expected_revenue=8000,
                user=cls.user_manager,
                user_id=cls.user_other.id,
                team_id=cls.team_other.id,
            )
        with cls._days_ago(6):
            cls.lead_e.write({"stage_id": s[3].id})  # skips 2 stages
            cls.lead_d = cls._create_opportunities(
                1,
                s[1],
                name="D",
                expected_revenue=4000,
                user_id=False,
                date_deadline=cls.deadline_3,
            )
        with cls._days_ago(5):
            cls.lead_a.write({"stage_id": s[3].id})  # skips First Contact
        with cls._days_ago(4):
            cls.lead_c = cls._create_opportunities(
                1, s[13], name="C", expected_revenue=2000
            )
        with cls._days_ago(3):
            cls.lead_q3 = cls._create_opportunities(
                1, s[13], name="Q3", expected_revenue=6000, **piotr
            )
        with cls._days_ago(0):
            cls.lead_c.action_set_won()  # skips Delivery and Invoice
            cls.lead_q3.action_set_won()
        cls.env.flush_all()

    @classmethod
    def _days_ago(cls, days):
        return freeze_time(datetime.combine(cls.today - timedelta(days=days), time()))

    def setUp(self):
        super().setUp()
        # the scenario is as planned
        leads = self.env["crm.lead"].with_context(active_test=False).search([])
        company_1 = self.company.name
        self.assertEqual(
            sorted(
                (
                    lead.name,
                    lead.company_id.name,
                    lead.stage_id.name,
                    lead.active,
                    lead.prorated_revenue,
                )
                for lead in leads
            ),
            [
                ("A", company_1, "Meeting", True, 300.0),
                ("B", company_1, "New Prospect", False, 0.0),
                ("C", company_1, "Payment Received", True, 2000.0),
                ("D", company_1, "Need Information", True, 40.0),
                ("E", company_1, "Meeting", True, 240.0),
                ("Q1", "Stalbud Kraków Sp. z o.o.", "Meeting", True, 210.0),
                ("Q2", "Stalbud Kraków Sp. z o.o.", "Need Information", True, 30.0),
                ("Q3", "Stalbud Kraków Sp. z o.o.", "Payment Received", True, 6000.0),
            ],
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def _rpc(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    @staticmethod
    def _month(day):
        """The label Odoo gives to a month group (English)."""
        return format_date(day, "MMMM yyyy", locale="en_US")

    def _pivot_export_data(self, action_xmlid, user):
        """The `data` the pivot view posts to /web/pivot/export_xlsx when the
        action opens with its defaults (pivot view, measures, row groupbys,
        domain, default filters), its numbers read over JSON-RPC by `user`
        exactly as the pivot model of the series reads them (pivot_model.js:
        18.0 one eager read_group per row groupby level, 19.0 one
        formatted_read_grouping_sets for all levels; exportData())."""
        action = self.env.ref(action_xmlid)
        action_context = safe_eval(action.context or "{}")
        pivot_view = action.view_ids.filtered(lambda v: v.view_mode == "pivot").view_id
        views = (
            self.env[action.res_model]
            .with_user(user)
            .get_views([(pivot_view.id, "pivot"), (action.search_view_id.id, "search")])
        )
        fields_info = views["models"][action.res_model]["fields"]
        pivot = etree.fromstring(views["views"]["pivot"]["arch"])
        search = etree.fromstring(views["views"]["search"]["arch"])
        self.assertFalse(
            pivot.xpath("//field[@type='col']"), "no column groupby by default"
        )
        measures = [
            node.get("name") for node in pivot.xpath("//field[@type='measure']")
        ]
        if not measures or pivot.get("display_quantity"):
            measures.insert(0, "__count")
        measures = action_context.get("pivot_measures", measures)
        row_groupbys = action_context.get("pivot_row_groupby") or [
            node.get("name")
            + (f":{node.get('interval')}" if node.get("interval") else "")
            for node in pivot.xpath("//field[@type='row']")
        ]
        domain = safe_eval(action.domain or "[]")
        for key, value in action_context.items():
            if key.startswith("search_default_") and value:
                search_filter = search.xpath(f"//filter[@name='{key[15:]}']")[0]
                self.assertFalse(
                    search_filter.get("context"), "default filters only filter"
                )
                domain = compat.domain_and(
                    [
                        domain,
                        safe_eval(
                            search_filter.get("domain"),
                            client_eval_context(date.today(), "UTC"),
                        ),
                    ]
                )
        context = dict(
            action_context,
            lang="en_US",
            tz="UTC",
            uid=user.id,
            allowed_company_ids=user.company_id.ids,
        )
        specs = [
            measure
            if measure == "__count"
            else f"{measure}:{fields_info[measure]['aggregator']}"
            for measure in measures
        ]
        # every level of the rows, as the pivot model subdivides the groups
        groupbys = [row_groupbys[:depth] for depth in range(len(row_groupbys) + 1)]
        if compat.ODOO_19:
            levels = self._rpc(
                action.res_model,
                "formatted_read_grouping_sets",
                domain,
                groupbys,
                ["__count", *(spec for spec in specs if spec != "__count")],
                context=context,
            )
        else:
            levels = []
            for groupby in groupbys:
                method, args, kwargs = compat.grouped_read_call(domain, groupby, specs)
                levels.append(
                    self._rpc(
                        action.res_model, method, *args, context=context, **kwargs
                    )
                )
        nodes = {}
        for groupby, groups in zip(groupbys, levels, strict=True):
            for group in compat.grouped_read_rows(groups, groupby, specs):
                values, labels = [], []
                for gb in groupby:
                    value = group[gb]
                    values.append(value[0] if isinstance(value, list) else value)
                    labels.append(
                        value[1]
                        if isinstance(value, list)
                        else value
                        if value
                        else "None"
                    )
                nodes[tuple(values)] = (labels[-1] if labels else "Total", group)

        def rows(key):
            title, group = nodes[key]
            yield {
                "title": title,
                "indent": len(key),
                "values": [
                    {"is_bold": True, "value": group[measure]} for measure in measures
                ],
            }
            for child in nodes:
                if len(child) == len(key) + 1 and child[: len(key)] == key:
                    yield from rows(child)

        return {
            "model": action.res_model,
            "title": pivot.get("string"),
            "col_group_headers": [
                [
                    {
                        "title": "Total",
                        "width": len(measures),
                        "height": 1,
                        "is_bold": False,
                    }
                ]
            ],
            "measure_headers": [
                {
                    "title": "Count"
                    if measure == "__count"
                    else fields_info[measure]["string"],
                    "width": 1,
                    "height": 1,
                    "is_bold": True,
                }
                for measure in measures
            ],
            "origin_headers": [],
            "rows": list(rows(())),
            "measure_count": len(measures),
            "origin_count": 1,
        }

    @staticmethod
    def _read_xlsx(content):
        """(sheet name, rows of cell values) of a one-sheet xlsx file, read as
        a spreadsheet would show it: numbers, texts, TRUE/FALSE booleans."""
        with zipfile.ZipFile(io.BytesIO(content)) as xlsx:
            names = xlsx.namelist()
            strings = (
                [
                    "".join(item.itertext())
                    for item in ElementTree.fromstring(
                        xlsx.read("xl/sharedStrings.xml")
                    )
                ]
                if "xl/sharedStrings.xml" in names
                else []
            )
            workbook = ElementTree.fromstring(xlsx.read("xl/workbook.xml"))
            sheets = workbook.findall("x:sheets/x:sheet", SHEET_NS)
            sheet = ElementTree.fromstring(xlsx.read("xl/worksheets/sheet1.xml"))
        table = []
        for row in sheet.iterfind("x:sheetData/x:row", SHEET_NS):
            cells = {}
            for cell in row.iterfind("x:c", SHEET_NS):
                column = 0
                for letter in cell.get("r").rstrip("0123456789"):
                    column = column * 26 + ord(letter) - 64
                value = cell.findtext("x:v", None, SHEET_NS)
                kind = cell.get("t")
                if value is None:
                    value = ""
                elif kind == "s":
                    value = strings[int(value)]
                elif kind == "b":
                    value = "TRUE" if value == "1" else "FALSE"
                elif kind != "str":
                    value = round(float(value), 4)
                cells[column - 1] = value
            values = [
                cells.get(index, "") for index in range(max(cells, default=-1) + 1)
            ]
            while values and values[-1] == "":
                values.pop()
            table.append(values)
        return [sheet.get("name") for sheet in sheets], table

    def _expected_sheets(self):
        """The four pivots exported by Jan: what a spreadsheet shows."""

        def table(measures, total, rows):
            return [
                ["", "Total"],
                ["", *measures],
                ["Total", *total],
                *([INDENT * indent + title, *values] for indent, title, values in rows),
            ]

        funnel = {"Need Information": (1, 4000, 40), "Meeting": (1, 10000, 300)}
        return {
            "sales_funnel_pl.crm_lead_funnel_action": (
                "Funnel",
                table(
                    ["Count", "Expected Revenue", "Prorated Revenue"],
                    [2, 14000, 340],
                    # every stage of the funnel, the empty ones too
                    [
                        (1, stage.name, funnel.get(stage.name, (0, 0, 0)))
                        for stage in self.stages
                    ],
                ),
            ),
            "sales_funnel_pl.sales_funnel_forecast_report_action": (
                "Sales Forecast",
                table(
                    [
                        "Forecast (Weighted)",
                        "Expected Revenue",
                        "Won in the Period",
                        "Target",
                        "Target to Date",
                        "Target Attainment (%)",
                        "Target Coverage (%)",
                        "Open Opportunities",
                    ],
                    # no target: no attainment nor coverage, exported as FALSE
                    # boolean cells
                    [340, 14000, 2000, 0, 0, "FALSE", "FALSE", 2],
                    [
                        (
                            1,
                            self._month(self.today),
                            (0, 0, 2000, 0, 0, "FALSE", "FALSE", 0),
                        ),  # C, won today
                        (
                            1,
                            self._month(self.deadline_2),
                            (300, 10000, 0, 0, 0, "FALSE", "FALSE", 1),
                        ),  # A, 3%
                        (
                            1,
                            self._month(self.deadline_3),
                            (40, 4000, 0, 0, 0, "FALSE", "FALSE", 1),
                        ),  # D, 1%
                    ],
                ),
            ),
            "sales_funnel_pl.sales_funnel_stage_report_action": (
                "Stage Analysis",
                table(
                    [
                        "Entries",
                        "Opportunities",
                        "Skipped",
                        "Moved On",
                        "Lost Here",
                        "Conversion to Won (%)",
                        "Average Days in Stage",
                        "Median Days in Stage",
                    ],
                    # conversion: 1 won opportunity (C) of 4 (A, B, C, D), each
                    # counted once over its 7 entries; days: A 2 and 3, B 1, C 4
                    [7, 4, 3, 3, 1, 25, 2.5, 2.5],
                    [
                        (
                            1,
                            "New Prospect",
                            (2, 2, 0, 1, 1, 0, 1.5, 1.5),
                        ),  # A, B (lost)
                        (
                            1,
                            "Need Information",
                            (2, 2, 0, 1, 0, 0, 3, 3),
                        ),  # A, D (still there)
                        # no entry: no average, exported as a FALSE boolean cell
                        (
                            1,
                            "First Contact",
                            (0, 0, 1, 0, 0, "FALSE", "FALSE", "FALSE"),
                        ),
                        (
                            1,
                            "Meeting",
                            (1, 1, 0, 0, 0, 0, "FALSE", "FALSE"),
                        ),  # A, still there
                        (1, "Order", (1, 1, 0, 1, 0, 100, 4, 4)),  # C
                        (1, "Delivery", (0, 0, 1, 0, 0, "FALSE", "FALSE", "FALSE")),
                        (1, "Invoice", (0, 0, 1, 0, 0, "FALSE", "FALSE", "FALSE")),
                        (
                            1,
                            "Payment Received",
                            (1, 1, 0, 0, 0, 100, "FALSE", "FALSE"),
                        ),
                    ],
                ),
            ),
        }

    # ------------------------------------------------------------------
    # 1. the pivot's xlsx export of each report
    # ------------------------------------------------------------------

    def test_pivot_export_xlsx(self):
        """Each report's pivot, exported by a salesperson as the pivot view
        posts it: the sheet holds the stage names and the numbers of the
        salesperson's opportunities (not E, not the second company's)."""
        self.authenticate("sfp_salesman", "sfp_salesman")
        for action_xmlid, (title, expected) in self._expected_sheets().items():
            with self.subTest(action=action_xmlid):
                data = self._pivot_export_data(action_xmlid, self.user_salesman)
                response = self.url_open(
                    "/web/pivot/export_xlsx",
                    # as download() sends it: the table as a JSON file, a CSRF token
                    data={
                        "token": "dummy-because-api-expects-one",
                        "csrf_token": http.Request.csrf_token(self),
                    },
                    files={"data": ("blob", json.dumps(data), "application/json")},
                )
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.headers["Content-Type"], XLSX)
                self.assertEqual(
                    unquote(response.headers["Content-Disposition"]),
                    "attachment; filename*=UTF-8''"
                    f"Pivot {title} ({data['model']}).xlsx",
                )
                self.assertEqual(self._read_xlsx(response.content), ([title], expected))

    def test_pivot_export_xlsx_from_the_view(self):
        """The same four exports, clicked in the real pivot views: the web
        client builds the table itself from the action's defaults."""
        exports = []
        make_response = http.Request.make_response

        def capture(request, data, headers=None, *args, **kwargs):
            response = make_response(request, data, headers, *args, **kwargs)
            if response.mimetype == XLSX:
                exports.append(data)
            return response

        self.patch(http.Request, "make_response", capture)
        expected = self._expected_sheets()
        code = """(async () => {
            const { download } = odoo.loader.modules.get("@web/core/network/download");
            const actionService = odoo.__WOWL_DEBUG__.root.env.services.action;
            const original = download._download;
            async function waitFor(test) {
                for (let i = 0; i < 200; i++) {
                    const result = test();
                    if (result) {
                        return result;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                throw new Error("timeout waiting for " + test);
            }
            let previous = null;
            for (const xmlid of ACTIONS) {
                await actionService.doAction(xmlid, {
                    viewType: "pivot",
                    clearBreadcrumbs: true,
                });
                const pivot = await waitFor(() => {
                    const view = document.querySelector(".o_pivot_view");
                    const table = view?.querySelector(".o_pivot table");
                    return view !== previous && table && view;
                });
                previous = pivot;
                const done = new Promise((resolve, reject) => {
                    download._download = (options) => {
                        download._download = original;
                        const result = original(options);
                        result.then(resolve, reject);
                        return result;
                    };
                });
                const button = await waitFor(() =>
                    document.querySelector(".o_pivot_download:enabled")
                );
                button.click();
                await done;
            }
            console.log("test successful");
        })()""".replace("ACTIONS", json.dumps(list(expected)))
        self.browser_js(
            "/odoo", code, ready="odoo.isReady === true", login="sfp_salesman"
        )
        self.assertEqual(
            [self._read_xlsx(content) for content in exports],
            [([title], table) for title, table in expected.values()],
        )

    # ------------------------------------------------------------------
    # 2. the second company's data never shows in the first company's reports
    # ------------------------------------------------------------------

    def _snapshot(self, companies):
        """What the logged-in user reads over JSON-RPC of the three reports
        and of the stage history, the given companies active."""
        context = {"lang": "en_US", "allowed_company_ids": companies.ids}

        def grouped(model, groupby, measures, domain=(), **extra):
            specs = [
                measure if measure == "__count" else f"{measure}:sum"
                for measure in measures
            ]
            method, args, kwargs = compat.grouped_read_call(domain, [groupby], specs)
            groups = compat.grouped_read_rows(
                self._rpc(
                    model, method, *args, context=dict(context, **extra), **kwargs
                ),
                [groupby],
                specs,
            )
            return {
                (
                    group[groupby][1]
                    if isinstance(group[groupby], list)
                    else group[groupby] or "None"
                ): tuple(group[measure] for measure in measures)
                for group in groups
                if group["__count"]
            }

        def lead_names(model, domain=()):
            records = self._rpc(
                model, "search_read", list(domain), ["lead_id"], context=context
            )
            return sorted({record["lead_id"][1] for record in records})

        history = self._rpc(
            "crm.lead.stage.history",
            "search_read",
            [],
            ["lead_id", "stage_id", "change_type"],
            context=context,
        )
        # the list view grouped by company (web_read_group's arguments:
        # 18.0 domain, fields, groupby; 19.0 domain, groupby, aggregates)
        if compat.ODOO_19:
            by_company = self._rpc(
                "crm.lead.stage.history",
                "web_read_group",
                [],
                ["company_id"],
                ["__count"],
                context=context,
            )
            count_key = "__count"
        else:
            by_company = self._rpc(
                "crm.lead.stage.history",
                "web_read_group",
                [],
                ["company_id"],
                ["company_id"],
                context=context,
            )
            count_key = "company_id_count"
        return {
            "funnel": grouped(
                "crm.lead",
                "stage_id",
                ["__count", "expected_revenue", "prorated_revenue"],
                OPEN,
                sales_funnel_fill_stages=True,
            ),
            "funnel leads": sorted(
                lead["name"]
                for lead in self._rpc(
                    "crm.lead", "search_read", OPEN, ["name"], context=context
                )
            ),
            "forecast": grouped(
                "sales.funnel.forecast.report",
                "date:month",
                [
                    "opportunity_count",
                    "expected_revenue",
                    "prorated_revenue",
                    "won_revenue",
                ],
            ),
            "forecast leads": lead_names("sales.funnel.forecast.report"),
            "stage analysis": grouped(
                "sales.funnel.stage.report",
                "stage_id",
                [
                    "entered_count",
                    "skipped_count",
                    "moved_on_count",
                    "lost_count",
                    "won_count",
                ],
            ),
            "stage analysis leads": lead_names("sales.funnel.stage.report"),
            "history": sorted(
                (row["lead_id"][1], row["stage_id"][1], row["change_type"])
                for row in history
            ),
            "history by company": {
                group["company_id"][1]: group[count_key]
                for group in by_company["groups"]
            },
        }

    def _expected(self, *parts):
        """The snapshot of the given parts of the data, summed: "jan" (what
        Jan sees of company 1), "e" (Ewa's E, company 1), "company 2"."""
        m2, m3 = self._month(self.deadline_2), self._month(self.deadline_3)
        m0 = self._month(self.today)
        skipped = (0, 1, 0, 0, 0)
        data = {
            "jan": {
                "funnel": {
                    "Need Information": (1, 4000, 40),
                    "Meeting": (1, 10000, 300),
                },
                "funnel leads": ["A", "D"],
                "forecast": {
                    m0: (0, 0, 0, 2000),
                    m2: (1, 10000, 300, 0),
                    m3: (1, 4000, 40, 0),
                },
                "forecast leads": ["A", "C", "D"],
                "stage analysis": {
                    "New Prospect": (2, 0, 1, 1, 0),
                    "Need Information": (2, 0, 1, 0, 0),
                    "First Contact": skipped,
                    "Meeting": (1, 0, 0, 0, 0),
                    "Order": (1, 0, 1, 0, 1),
                    "Delivery": skipped,
                    "Invoice": skipped,
                    "Payment Received": (1, 0, 0, 0, 1),
                },
                "stage analysis leads": ["A", "B", "C", "D"],
                "history": [
                    ("A", "Meeting", "stage"),
                    ("A", "Need Information", "stage"),
                    ("A", "New Prospect", "create"),
                    ("B", "New Prospect", "create"),
                    ("B", "New Prospect", "lost"),
                    ("C", "Order", "create"),
                    ("C", "Payment Received", "won"),
                    ("D", "Need Information", "create"),
                ],
                "history by company": {self.company.name: 8},
            },
            "e": {
                "funnel": {"Meeting": (1, 8000, 240)},
                "funnel leads": ["E"],
                "forecast": {"None": (1, 8000, 240, 0)},
                "forecast leads": ["E"],
                "stage analysis": {
                    "New Prospect": (1, 0, 1, 0, 0),
                    "Need Information": skipped,
                    "First Contact": skipped,
                    "Meeting": (1, 0, 0, 0, 0),
                },
                "stage analysis leads": ["E"],
                "history": [("E", "Meeting", "stage"), ("E", "New Prospect", "create")],
                "history by company": {self.company.name: 2},
            },
            "company 2": {
                "funnel": {
                    "Need Information": (1, 3000, 30),
                    "Meeting": (1, 7000, 210),
                },
                "funnel leads": ["Q1", "Q2"],
                "forecast": {
                    m0: (0, 0, 0, 6000),
                    m2: (1, 7000, 210, 0),
                    "None": (1, 3000, 30, 0),
                },
                "forecast leads": ["Q1", "Q2", "Q3"],
                "stage analysis": {
                    "New Prospect": (1, 0, 1, 0, 0),
                    "Need Information": (1, 1, 0, 0, 0),
                    "First Contact": skipped,
                    "Meeting": (1, 0, 0, 0, 0),
                    "Order": (1, 0, 1, 0, 1),
                    "Delivery": skipped,
                    "Invoice": skipped,
                    "Payment Received": (1, 0, 0, 0, 1),
                },
                "stage analysis leads": ["Q1", "Q2", "Q3"],
                "history": [
                    ("Q1", "Meeting", "stage"),
                    ("Q1", "New Prospect", "create"),
                    ("Q2", "Need Information", "create"),
                    ("Q3", "Order", "create"),
                    ("Q3", "Payment Received", "won"),
                ],
                "history by company": {"Stalbud Kraków Sp. z o.o.": 5},
            },
        }
        result = {}
        for part in parts:
            for key, value in data[part].items():
                if isinstance(value, list):
                    result[key] = sorted(result.get(key, []) + value)
                else:
                    merged = result.setdefault(key, {})
                    for group, numbers in value.items():
                        if group not in merged:
                            merged[group] = numbers
                        elif isinstance(numbers, tuple):
                            merged[group] = tuple(
                                map(sum, zip(merged[group], numbers, strict=False))
                            )
                        else:
                            merged[group] += numbers
        return result

    def test_salesman_company_1(self):
        self.authenticate("sfp_salesman", "sfp_salesman")
        # Q2 is unassigned: only the company rules keep it out
        self.assertEqual(self._snapshot(self.company), self._expected("jan"))

    def test_manager_company_1(self):
        self.authenticate("sfp_manager", "sfp_manager")
        self.assertEqual(self._snapshot(self.company), self._expected("jan", "e"))

    def test_manager_of_both_companies(self):
        self.authenticate("sfp_manager_both", "sfp_manager_both")
        # the company switcher on the first company only: as a manager of it
        self.assertEqual(self._snapshot(self.company), self._expected("jan", "e"))
        # on both: everything, the forecast in the (same) company currency
        self.assertEqual(
            self._snapshot(self.company | self.company_2),
            self._expected("jan", "e", "company 2"),
        )
        self.assertEqual(self._snapshot(self.company_2), self._expected("company 2"))

    def test_salesman_cannot_read_other_team_history(self):
        """E (another team, another salesperson) is hidden by crm's own
        rules: nor its history, nor its report rows, even asked by id."""
        self.authenticate("sfp_salesman", "sfp_salesman")
        context = {"allowed_company_ids": self.company.ids}
        history = self.lead_e.stage_history_ids
        self.assertEqual(len(history), 2)
        domain = [("lead_id", "=", self.lead_e.id)]
        for model in (
            "crm.lead.stage.history",
            "sales.funnel.stage.report",
            "sales.funnel.forecast.report",
        ):
            self.assertEqual(
                self._rpc(model, "search_read", domain, ["lead_id"], context=context),
                [],
            )
        with mute_logger("odoo.http"):
            for model, ids in (
                ("crm.lead", self.lead_e.ids),
                ("crm.lead.stage.history", history.ids),
            ):
                with (
                    self.subTest(model=model),
                    self.assertRaisesRegex(JsonRpcException, "AccessError"),
                ):
                    self._rpc(model, "read", ids, ["display_name"], context=context)
        # A's own history, through the opportunity, is readable
        self.assertEqual(
            self._rpc(
                "crm.lead",
                "read",
                self.lead_a.ids,
                ["stage_history_count"],
                context=context,
            ),
            [{"id": self.lead_a.id, "stage_history_count": 3}],
        )

    def test_opportunity_handed_over_to_the_second_company(self):
        """An opportunity handed over to the second company's team (crm then
        moves it to that company) is the second company's: the first
        company's manager can no longer open it, nor read its history, nor
        find it (or its win) in the first company's stage analysis."""
        lead = self._create_opportunities(1, self.stages[0], name="F")
        lead.write({"stage_id": self.stages[1].id})
        lead.with_user(self.user_manager_both).with_context(
            allowed_company_ids=(self.company | self.company_2).ids
        ).write({"team_id": self.team_2.id, "user_id": self.user_salesman_2.id})
        self.assertEqual(lead.company_id, self.company_2)
        lead = lead.with_user(self.user_salesman_2)
        lead.write({"stage_id": self.stages[3].id})
        lead.action_set_won()
        self.env.flush_all()

        self.authenticate("sfp_manager", "sfp_manager")
        context = {"allowed_company_ids": self.company.ids}
        self.assertEqual(
            self._rpc(
                "crm.lead",
                "search_read",
                [("id", "=", lead.id)],
                ["name"],
                context=context,
            ),
            [],
        )
        for model in (
            "crm.lead.stage.history",
            "sales.funnel.stage.report",
            "sales.funnel.forecast.report",
        ):
            with self.subTest(model=model):
                self.assertEqual(
                    self._rpc(
                        model,
                        "search_read",
                        [("lead_id", "=", lead.id)],
                        ["lead_id", "company_id"],
                        context=context,
                    ),
                    [],
                )
        # the first company's reports are as they were before
        self.assertEqual(self._snapshot(self.company), self._expected("jan", "e"))
        # the whole history went with the opportunity to the second company
        self.authenticate("sfp_krakow_rep", "sfp_krakow_rep")
        rows = self._rpc(
            "crm.lead.stage.history",
            "search_read",
            [("lead_id", "=", lead.id)],
            ["stage_id", "change_type", "company_id"],
            order="date_enter, id",
            context={"allowed_company_ids": self.company_2.ids},
        )
        self.assertEqual(
            [
                (row["stage_id"][1], row["change_type"], row["company_id"][0])
                for row in rows
            ],
            [
                ("New Prospect", "create", self.company_2.id),
                ("Need Information", "stage", self.company_2.id),
                ("Meeting", "stage", self.company_2.id),
                ("Payment Received", "won", self.company_2.id),
            ],
        )
