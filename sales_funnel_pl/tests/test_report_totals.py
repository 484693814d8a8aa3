# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import statistics
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .. import compat
from .common import SalesFunnelCommon, client_eval_context

WARSAW = pytz.timezone("Europe/Warsaw")
# the sums to the grosz; a percentage the report rounds to 2 decimals
MONEY = 0.005
PERCENT = 0.0051
# the fields of the report rows the expected values are computed from
FORECAST_FIELDS = [
    "date",
    "won_revenue",
    "target_amount",
    "prorated_revenue",
    "expected_revenue",
    "opportunity_count",
]
FORECAST_WON_FIELDS = [
    "date",
    "won_revenue",
    "forecast_revenue",
    "difference",
    "target_amount",
]
STAGE_FIELDS = [
    "lead_id",
    "entered_count",
    "opportunity_count",
    "skipped_count",
    "moved_on_count",
    "lost_count",
    "won_count",
    "duration_days",
    "median_days",
    "days_to_win",
]


def _percent(numerator, denominator):
    """``numerator`` in % of ``denominator``, unrounded (None for 0)."""
    return 100.0 * numerator / denominator if denominator else None


def _mean(values):
    return statistics.fmean(values) if values else None


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestReportTotals(SalesFunnelCommon):
    """The total and group rows of "Prognoza sprzedaży", "Prognoza a
    wykonanie", "Analiza etapów" and "Tempo sprzedaży" as the web client
    reads them on opening each screen (its default filters, grouping and
    measures, from the action), as a Polish salesperson and as a manager,
    both in Europe/Warsaw: each ratio, average and median of a group equals
    the one computed here from the rows the group covers, and each sum adds
    up its rows.

    Data shaped like a real company's, relative to today: the funnel's team
    (Jan, who sees his own opportunities only, and John, writing in UTC), a
    team working its own stages, a second company with its own team;
    opportunities started three months ago, won and lost in the past
    months and this month, open ones expected this month, in the coming
    months, overdue and undated; forecasts saved on the first of each
    month; monthly targets of the teams and salespeople from two months
    ago to two months ahead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()
        cls.env["res.lang"]._activate_lang("pl_PL")
        (cls.user_salesman | cls.user_manager).lang = "pl_PL"
        # crm and the history date stage changes with the transaction's time:
        # here with the (frozen) clock, so that the past has its own dates
        cls.classPatch(type(cls.env.cr), "now", lambda cr: fields.Datetime.now())
        cls.today = datetime.now(WARSAW).date()
        cls.month = cls.today.replace(day=1)
        month = cls.month

        def at(months, day, hour=10):
            moment = month + relativedelta(months=months, day=day)
            return freeze_time(datetime.combine(moment, time(hour)))

        def deadline(months, days):
            return month + relativedelta(months=months) + timedelta(days=days)

        s, other = cls.stages, cls.other_stages
        jan = {"user_id": cls.user_salesman.id}
        john = {"user_id": cls.user_salesman_utc.id}
        serwis = {**john, "team_id": cls.team_other.id}
        ewa = {
            "user": cls.user_salesman_b,
            "user_id": cls.user_salesman_b.id,
            "team_id": cls.team_b.id,
        }

        def create(name, revenue, stage=None, **values):
            # as the manager, who plans the team's opportunities
            values.setdefault("user", cls.user_manager)
            return cls._create_opportunities(
                1, stage or s[0], name=name, expected_revenue=revenue, **values
            )

        with at(-3, 25):
            cls.j1 = create("J1", 100000, date_deadline=deadline(-2, 18), **jan)
            cls.j2 = create("J2", 80000, date_deadline=deadline(-1, 14), **jan)
            cls.j3 = create("J3", 60000, date_deadline=deadline(0, 2), **jan)
            cls.j4 = create("J4", 50000, date_deadline=deadline(0, 14), **jan)
            cls.j5 = create("J5", 120000, date_deadline=deadline(1, 9), **jan)
            cls.j6 = create("J6", 40000, date_deadline=deadline(2, 9), **jan)
            cls.j7 = create("J7", 30000, **jan)
            cls.j8 = create("J8", 20000, date_deadline=deadline(-1, 9), **jan)
            cls.j9 = create("J9", 25000, **jan)
            cls.u1 = create("U1", 45000, date_deadline=deadline(-1, 11), **john)
            cls.u2 = create("U2", 70000, date_deadline=deadline(1, 19), **john)
            cls.d1 = create("D1", 15000, date_deadline=deadline(0, 20), user_id=False)
            cls.s1 = create("S1", 33000, other[0], **serwis)
            cls.s2 = create(
                "S2", 27000, other[0], date_deadline=deadline(1, 4), **serwis
            )
            cls.b1 = create("B1", 55000, date_deadline=deadline(-1, 21), **ewa)
            cls.b2 = create("B2", 65000, date_deadline=deadline(1, 14), **ewa)
        with at(-3, 28):
            # the sales closing in the coming months, in "Zamówienie" (80%)
            (cls.j1 | cls.j2 | cls.j3 | cls.u1 | cls.b1).stage_id = cls.stage_order
        Snapshot = cls.env["sales.funnel.forecast.snapshot"].sudo()
        companies = cls.company | cls.company_b
        for months in (-2, -1, 0):
            with at(months, 1, hour=5):
                Snapshot._take_snapshot(companies, month + relativedelta(months=months))
            if months == -2:
                with at(-2, 6):
                    (
                        cls.j4 | cls.j5 | cls.j9 | cls.u2 | cls.b2
                    ).stage_id = cls.stage_meeting
                    (cls.s1 | cls.s2).stage_id = other[1]
                with at(-2, 10):
                    cls.j5.stage_id = cls.stage_order
                with at(-2, 20):
                    cls.j1.action_set_won()
            if months == -1:
                with at(-1, 8):
                    cls.j6.stage_id = s[1]
                with at(-1, 12):
                    cls.u1.action_set_won()
                with at(-1, 15):
                    cls.j2.action_set_won()
                with at(-1, 18):
                    cls.j9.action_set_lost()
                with at(-1, 20):
                    cls.j7.stage_id = s[2]
                with at(-1, 22):
                    cls.b1.action_set_won()
        # this month: won today, by the manager (her day is Warsaw's)
        cls.j3.with_user(cls.user_manager).action_set_won()
        cls.s1.with_user(cls.user_manager).stage_id = other[2]
        cls.won = {cls.j1: -2, cls.u1: -1, cls.j2: -1, cls.b1: -1, cls.j3: 0, cls.s1: 0}
        Target = cls.env["sales.funnel.target"]
        cls.targets = Target.create(
            [
                values
                for months in range(-2, 3)
                for values in (
                    {"team_id": cls.team.id, "amount": 200000},
                    {"team_id": cls.team.id, **jan, "amount": 90000},
                    {"team_id": cls.team.id, **john, "amount": 60000},
                    {"team_id": cls.team_other.id, "amount": 40000},
                    {
                        "team_id": cls.team_b.id,
                        "company_id": cls.company_b.id,
                        "amount": 70000,
                    },
                    {
                        "team_id": cls.team_b.id,
                        "user_id": cls.user_salesman_b.id,
                        "company_id": cls.company_b.id,
                        "amount": 50000,
                    },
                )
                for values in [dict(values, date=month + relativedelta(months=months))]
            ]
        )
        cls.env.flush_all()

    # ------------------------------------------------------------------
    # the screen as the web client opens it
    # ------------------------------------------------------------------

    def _web_context(self, user, action_context):
        """The context of the web client of ``user`` (Polish, Warsaw, the
        companies of the switcher: both for the manager), with the action's."""
        companies = user.company_id | (
            self.company_b if user == self.user_manager else user.company_id
        )
        return dict(
            action_context,
            lang="pl_PL",
            tz="Europe/Warsaw",
            uid=user.id,
            allowed_company_ids=companies.ids,
        )

    def _screen(self, action_xmlid, user, view_type="pivot", extra_filters=()):
        """(model as ``user`` in the web client's context, domain, row
        groupbys, aggregate specs) of the action's default ``view_type``
        view: the search view's default filters (and ``extra_filters``,
        names of its filters clicked on top of them), the view's rows or the
        default grouping, the action's or the view's measures."""
        action = self.env.ref(action_xmlid)
        action_context = safe_eval(action.context or "{}")
        view = action.view_ids.filtered(lambda v: v.view_mode == view_type).view_id
        Model = self.env[action.res_model].with_user(user)
        views = Model.get_views(
            [
                (view.id if view else False, view_type),
                (action.search_view_id.id, "search"),
            ]
        )
        fields_info = views["models"][action.res_model]["fields"]
        arch = etree.fromstring(views["views"][view_type]["arch"])
        search = etree.fromstring(views["views"]["search"]["arch"])
        domain = safe_eval(action.domain or "[]")
        context = self._web_context(user, action_context)
        groupbys = []
        names = [
            key[len("search_default_") :]
            for key, value in action_context.items()
            if key.startswith("search_default_") and value
        ] + list(extra_filters)
        for name in names:
            search_filter = search.xpath(f"//filter[@name='{name}']")[0]
            if search_filter.get("domain"):
                domain = compat.domain_and(
                    [
                        domain,
                        safe_eval(
                            search_filter.get("domain"),
                            client_eval_context(self.today, context["tz"]),
                        ),
                    ]
                )
            filter_context = safe_eval(search_filter.get("context") or "{}")
            if "group_by" in filter_context:
                groupbys.append(filter_context.pop("group_by"))
            context.update(filter_context)
        if view_type == "pivot":
            groupbys = groupbys or [
                node.get("name")
                + (f":{node.get('interval')}" if node.get("interval") else "")
                for node in arch.xpath("//field[@type='row']")
            ]
            measures = action_context.get("pivot_measures") or [
                node.get("name") for node in arch.xpath("//field[@type='measure']")
            ]
        else:
            measures = [node.get("name") for node in arch.xpath("//field[@sum]")]
        specs = [
            f"{measure}:{fields_info[measure]['aggregator'] or 'sum'}"
            for measure in measures
            if measure != "__count"
        ]
        return Model.with_context(**context), domain, groupbys, specs

    def _pivot_groups(self, Model, domain, groupbys, specs):
        """The pivot's rows as the pivot model of the series reads them (18.0
        one eager read_group per level, 19.0 one formatted_read_grouping_sets
        for every level): (the group's full domain, {spec: value}) for the
        total row and each group row."""
        levels = [groupbys[:depth] for depth in range(len(groupbys) + 1)]
        if compat.ODOO_19:
            results = Model.formatted_read_grouping_sets(
                domain, levels, ["__count", *specs]
            )
            return [
                (
                    compat.domain_and([domain, group.get("__extra_domain") or []]),
                    {spec: group[spec] for spec in specs},
                )
                for groups in results
                for group in groups
            ]
        return [
            (
                group.get("__domain", domain),
                {spec: group[spec.split(":")[0]] for spec in specs},
            )
            for level in levels
            for group in Model.read_group(domain, specs, level, lazy=False)
        ]

    @staticmethod
    def _rows(Model, domain, fnames):
        """The report rows ``domain`` selects, as the user may read them, each
        a dict of the raw values of ``fnames`` (ids for the relational
        fields, None for an empty value: a read would give 0.0)."""
        arrays = Model._read_group(domain, [], [f"{f}:array_agg" for f in fnames])[0]
        return [
            {
                fname: float(value) if isinstance(value, Decimal) else value
                for fname, value in zip(fnames, row, strict=True)
            }
            for row in zip(*(array or [] for array in arrays), strict=True)
        ]

    def _assert_groups(self, groups, Model, expected, fnames):
        """Each group's value of each spec equals ``expected(rows)[spec]``,
        ``rows`` being the report rows the group covers."""
        self.assertTrue(groups)
        for group_domain, values in groups:
            rows = self._rows(Model, group_domain, fnames)
            wanted = expected(rows)
            for spec, value in values.items():
                with self.subTest(domain=group_domain, spec=spec):
                    if wanted[spec] is None:
                        # nothing shown (not a 0)
                        self.assertTrue(value is None or value is False, value)
                    else:
                        self.assertIsNotNone(value)
                        delta = PERCENT if spec.endswith(":avg") else MONEY
                        self.assertAlmostEqual(value, wanted[spec], delta=delta)

    def _due(self, day):
        """``day`` falls in a month where winning was possible (up to and
        including the current month, in Warsaw)."""
        return day < self.month + relativedelta(months=1)

    # ------------------------------------------------------------------
    # the expected values, from the rows a group covers
    # ------------------------------------------------------------------

    def _forecast_expected(self, rows):
        def total(fname, due=False):
            return sum(
                row[fname]
                for row in rows
                if not due or (row["date"] and self._due(row["date"]))
            )

        won, target = total("won_revenue"), total("target_amount")
        return {
            "prorated_revenue:sum": total("prorated_revenue"),
            "expected_revenue:sum": total("expected_revenue"),
            "won_revenue:sum": won,
            "target_amount:sum": target,
            "target_due:sum": total("target_amount", due=True),
            "attainment:avg": _percent(won, total("target_amount", due=True)),
            "coverage:avg": _percent(won + total("prorated_revenue"), target),
            "opportunity_count:sum": total("opportunity_count"),
        }

    def _forecast_won_expected(self, rows):
        def total(fname, due=False):
            return sum(row[fname] for row in rows if not due or self._due(row["date"]))

        won, forecast_due = total("won_revenue"), total("forecast_revenue", due=True)
        return {
            "forecast_revenue:sum": total("forecast_revenue"),
            "won_revenue:sum": won,
            "difference:sum": total("difference"),
            "accuracy:avg": (
                max(100 - _percent(abs(won - forecast_due), forecast_due), 0)
                if forecast_due
                else None
            ),
            "target_amount:sum": total("target_amount"),
            "attainment:avg": _percent(won, total("target_amount", due=True)),
        }

    @staticmethod
    def _stage_expected(rows):
        def opportunities(fname):
            return len({row["lead_id"] for row in rows if row[fname] == 1})

        def values(fname):
            return [row[fname] for row in rows if row[fname] is not None]

        return {
            "entered_count:sum": sum(row["entered_count"] for row in rows),
            "opportunity_count:sum": opportunities("opportunity_count"),
            "skipped_count:sum": sum(row["skipped_count"] for row in rows),
            "moved_on_count:sum": sum(row["moved_on_count"] for row in rows),
            "lost_count:sum": sum(row["lost_count"] for row in rows),
            "won_count:sum": opportunities("won_count"),
            "conversion:avg": _percent(
                opportunities("won_count"), opportunities("opportunity_count")
            ),
            "duration_days:avg": _mean(values("duration_days")),
            "median_days:median": (
                statistics.median(values("median_days"))
                if values("median_days")
                else None
            ),
            "days_to_win:avg": _mean(values("days_to_win")),
        }

    # ------------------------------------------------------------------
    # the tests
    # ------------------------------------------------------------------

    def _check_pivot(self, action_xmlid, expected, fnames, extra_specs=(), **kwargs):
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login, **kwargs):
                Model, domain, groupbys, specs = self._screen(
                    action_xmlid, user, **kwargs
                )
                specs += [spec for spec in extra_specs if spec not in specs]
                groups = self._pivot_groups(Model, domain, groupbys, specs)
                self._assert_groups(groups, Model, expected, fnames)

    def test_forecast_totals(self):
        """ "Prognoza sprzedaży" opened as it opens: every month and the total."""
        self._check_pivot(
            "sales_funnel_pl.sales_funnel_forecast_report_action",
            self._forecast_expected,
            FORECAST_FIELDS,
        )

    def test_forecast_total_attainment_of_months_to_date(self):
        """The total row of "Prognoza sprzedaży" (default filter "Otwarte i
        wygrane w tym kwartale") measures what was won against the targets
        of the months where winning was possible: the months still to come
        show their target and its coverage by the forecast, no attainment."""
        Model, domain, groupbys, specs = self._screen(
            "sales_funnel_pl.sales_funnel_forecast_report_action", self.user_manager
        )
        quarter = self.month - relativedelta(months=(self.month.month - 1) % 3)
        won = sum(
            lead.expected_revenue
            for lead, months in self.won.items()
            if self.month + relativedelta(months=months) >= quarter
        )
        # every team's month: 200,000 + 40,000 + 70,000
        due_months = len(
            [m for m in range(-2, 1) if self.month + relativedelta(months=m) >= quarter]
        )
        groups = compat.grouped_read(
            Model, domain, [], ["won_revenue:sum", "target_due:sum", "attainment:avg"]
        )
        self.assertEqual(
            (groups[0]["won_revenue"], groups[0]["target_due"]),
            (won, 310000.0 * due_months),
        )
        self.assertAlmostEqual(
            groups[0]["attainment"], 100 * won / (310000 * due_months), delta=PERCENT
        )
        coming = self.month + relativedelta(months=1)
        months = compat.grouped_read(
            Model,
            compat.domain_and(
                [domain, [("date", ">=", coming), ("kind", "=", "target")]]
            ),
            [],
            ["target_amount:sum", "attainment:avg"],
        )
        self.assertEqual(months[0]["target_amount"], 620000.0)
        self.assertTrue(
            months[0]["attainment"] is None or months[0]["attainment"] is False
        )
        # next month: J5, U2, S2 and B2 weighted against its target
        next_month = compat.grouped_read(
            Model,
            compat.domain_and(
                [
                    domain,
                    [
                        ("date", ">=", coming),
                        ("date", "<", coming + relativedelta(months=1)),
                    ],
                ]
            ),
            [],
            ["coverage:avg"],
        )
        weighted = sum(
            (self.j5 | self.u2 | self.s2 | self.b2).mapped("prorated_revenue")
        )
        self.assertTrue(weighted)
        self.assertAlmostEqual(
            next_month[0]["coverage"], 100 * weighted / 310000, delta=PERCENT
        )

    def test_forecast_won_attainment_on_the_first_of_the_month(self):
        """On the first of next month at 00:30 in Warsaw, still the last day
        of this month in UTC, the manager's "Prognoza a wykonanie" counts
        next month's target in the attainment: the month where winning is
        possible is the user's, not the server's."""
        action = "sales_funnel_pl.sales_funnel_forecast_won_report_action"
        Model, domain, groupbys, specs = self._screen(action, self.user_manager)
        coming = self.month + relativedelta(months=1)
        months = [
            ("date", ">=", self.month),
            ("date", "<", coming + relativedelta(months=1)),
        ]
        rows = Model.search_read(months, ["date", "won_revenue", "target_amount"])
        won = sum(row["won_revenue"] for row in rows)
        targets = sum(row["target_amount"] for row in rows)
        # next month has a target, and this month something won: an
        # attainment of both months differs from one of this month alone
        self.assertTrue(won)
        self.assertTrue(
            sum(row["target_amount"] for row in rows if row["date"] >= coming)
        )
        midnight = WARSAW.localize(datetime.combine(coming, time(0, 30)))
        with freeze_time(midnight.astimezone(pytz.utc).replace(tzinfo=None)):
            self.assertEqual(fields.Date.context_today(Model), coming, "Warsaw's day")
            [group] = compat.grouped_read(Model, months, [], ["attainment:avg"])
        self.assertAlmostEqual(group["attainment"], 100 * won / targets, delta=PERCENT)

    def test_forecast_won_totals(self):
        """ "Prognoza a wykonanie" as it opens (the last 12 months, the
        forecast of each month's first day), and with the coming months
        (no date filter, the forecast one month ahead): the accuracy and
        the attainment count the months where winning was possible."""
        fnames = FORECAST_WON_FIELDS
        action = "sales_funnel_pl.sales_funnel_forecast_won_report_action"
        self._check_pivot(action, self._forecast_won_expected, fnames)
        for horizon in (1, 3):
            Model, domain, groupbys, specs = self._screen(action, self.user_manager)
            Model = Model.with_context(sales_funnel_horizon=horizon)
            domain = []  # the filter "Ostatnie 12 miesięcy" taken off
            groups = self._pivot_groups(Model, domain, groupbys, specs)
            self._assert_groups(groups, Model, self._forecast_won_expected, fnames)
            # the coming months are there, with a target and (one month
            # ahead: next month from this month's forecast) a forecast
            coming = [("date", ">", self.month)]
            self.assertTrue(Model.search_count(coming + [("kind", "=", "target")]))
            if horizon == 1:
                self.assertTrue(
                    Model.search_count(
                        coming
                        + [("kind", "=", "forecast"), ("forecast_revenue", ">", 0)]
                    )
                )

    def test_stage_totals(self):
        """ "Analiza etapów" as it opens: conversion, average and median days
        and days to win of every stage and of the total."""
        self._check_pivot(
            "sales_funnel_pl.sales_funnel_stage_report_action",
            self._stage_expected,
            STAGE_FIELDS,
            extra_specs=["won_count:sum", "days_to_win:avg"],
        )

    def _velocity_expected(self, row):
        """A row of "Tempo sprzedaży" computed from the opportunities it
        covers: its salesperson's, team's and company's, open now, or won or
        lost in the last 365 days (the user's days)."""
        since = self.today - timedelta(days=365)
        Lead = self.env["crm.lead"].with_context(active_test=False)
        base = [
            ("type", "=", "opportunity"),
            ("user_id", "=", row["user_id"]),
            ("team_id", "=", row["team_id"]),
            ("company_id", "=", row["company_id"]),
        ]
        closed = [("date_process_end", ">", since)]
        won = Lead.search(compat.domain_and([base, compat.won_lead_domain(), closed]))
        lost = Lead.search(compat.domain_and([base, compat.lost_lead_domain(), closed]))
        opened = Lead.search(base + [("active", "=", True)]) - Lead.search(
            compat.domain_and([base, compat.won_lead_domain()])
        )
        avg_won = _mean(won.mapped("expected_revenue"))
        win_rate = _percent(len(won), len(won) + len(lost))
        cycle = _mean(
            [
                max((lead.date_process_end - lead.date_process_start).days, 1)
                for lead in won
            ]
        )
        return {
            "open_count": len(opened),
            "won_count": len(won),
            "lost_count": len(lost),
            "won_value": sum(won.mapped("expected_revenue")),
            "avg_won_value": avg_won,
            "win_rate": win_rate,
            "cycle_days": cycle,
            "velocity": (
                len(opened) * avg_won * win_rate / 100 / cycle if cycle else None
            ),
        }

    def test_velocity_totals(self):
        """ "Tempo sprzedaży" as it opens (grouped by team): each team's sums
        add up its salespeople's rows, and each row's average won value, win
        rate, average cycle and velocity are those of its opportunities."""
        action = "sales_funnel_pl.sales_funnel_velocity_action"
        fnames = [
            "user_id",
            "team_id",
            "company_id",
            "open_count",
            "won_count",
            "lost_count",
            "won_value",
            "avg_won_value",
            "win_rate",
            "cycle_days",
            "velocity",
        ]
        for user in (self.user_salesman, self.user_manager):
            with self.subTest(user=user.login):
                Model, domain, groupbys, specs = self._screen(action, user, "list")
                self.assertEqual(groupbys, ["team_id"])
                if compat.ODOO_19:
                    groups = [
                        (
                            compat.domain_and([domain, group["__extra_domain"]]),
                            {spec: group[spec] for spec in specs},
                        )
                        for group in Model.web_read_group(domain, groupbys, specs)[
                            "groups"
                        ]
                    ]
                else:
                    groups = [
                        (
                            group["__domain"],
                            {spec: group[spec.split(":")[0]] for spec in specs},
                        )
                        for group in Model.web_read_group(domain, specs, groupbys)[
                            "groups"
                        ]
                    ]
                self.assertEqual(
                    sorted(specs),
                    sorted(
                        f"{f}:sum"
                        for f in (
                            "open_count",
                            "velocity",
                            "won_count",
                            "lost_count",
                            "won_value",
                        )
                    ),
                )
                self._assert_groups(
                    groups,
                    Model,
                    lambda rows, specs=specs: {
                        spec: sum(row[spec.split(":")[0]] or 0 for row in rows)
                        for spec in specs
                    },
                    fnames,
                )
                rows = self._rows(Model, domain, fnames)
                # Jan sees his own row, the manager every salesperson's
                self.assertEqual(
                    {row["user_id"] for row in rows},
                    {user.id}
                    if user == self.user_salesman
                    else {
                        self.user_salesman.id,
                        self.user_salesman_utc.id,
                        self.user_salesman_b.id,
                    },
                )
                for row in rows:
                    for fname, value in self._velocity_expected(row).items():
                        with self.subTest(row=row, fname=fname):
                            if value is None:
                                self.assertIsNone(row[fname])
                            else:
                                self.assertAlmostEqual(row[fname], value, delta=MONEY)

    def test_every_grouping(self):
        """The same in each grouping the search views offer (month, quarter,
        stage, salesperson, team, company, figure), as the manager and as
        Jan: no grouping makes a ratio of other sums than its rows'."""
        reports = {
            "sales_funnel_pl.sales_funnel_forecast_report_action": (
                self._forecast_expected,
                FORECAST_FIELDS,
            ),
            "sales_funnel_pl.sales_funnel_forecast_won_report_action": (
                self._forecast_won_expected,
                FORECAST_WON_FIELDS,
            ),
            "sales_funnel_pl.sales_funnel_stage_report_action": (
                self._stage_expected,
                STAGE_FIELDS,
            ),
        }
        for action_xmlid, (expected, fnames) in reports.items():
            action = self.env.ref(action_xmlid)
            search = etree.fromstring(
                self.env[action.res_model].get_views(
                    [(action.search_view_id.id, "search")]
                )["views"]["search"]["arch"]
            )
            groupings = [
                safe_eval(node.get("context"))["group_by"]
                for node in search.xpath("//filter[@context]")
                if "group_by" in node.get("context")
            ]
            self.assertGreaterEqual(len(groupings), 3)
            for user in (self.user_salesman, self.user_manager):
                Model, domain, groupbys, specs = self._screen(action_xmlid, user)
                extra = [] if "stage" not in action_xmlid else ["days_to_win:avg"]
                for grouping in groupings:
                    with self.subTest(
                        action=action_xmlid, user=user.login, by=grouping
                    ):
                        groups = self._pivot_groups(
                            Model, domain, [grouping], specs + extra
                        )
                        self._assert_groups(groups, Model, expected, fnames)
