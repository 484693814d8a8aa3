# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon

# 11:00 on 20 March 2026 in Warsaw: the default period runs from 1 February
NOW = "2026-03-20 10:00:00"
# 00:00:30 on 1 February 2026 in Warsaw, when the month's forecast is saved
SNAPSHOT_MOMENT = "2026-01-31 23:00:30"
MARCH = "2026-03-01"


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestPipelineChanges(SalesFunnelCommon):
    """ "Pipeline Changes" ("Zmiany w lejku") on a built history, to the
    grosz: the bars add up from the open pipeline at the start (equal to the
    forecast saved that day) to the open pipeline now (equal to "Open
    Opportunities by Stage"), as a sales manager (every opportunity of their
    companies, another company's currency converted) and as a salesperson
    (their own and the unassigned ones), in Warsaw's days.

    The history, from January to 20 March 2026 (the period: February and
    March so far), the funnel's stages (3% Spotkanie, 5% Analiza, 10%
    Rozwój, 25% Przygotowanie 2, 80% Zamówienie):

    - Hala (Jan): 100,000.40 at 3%, closing 15 March; in the period raised
      to 120,000.40, moved to 25%, its closing date slipped to April, then
      lowered to 110,000.40 at 30% typed by hand (one write);
    - Wiata (Jan): 50,000 at 10%, lost in February, restored in March;
    - Magazyn (Jan): 15,000 at 3%, lost in January (before the period),
      restored in February;
    - Brama (Jan): 40,000 at 5%, moved to another team in February;
    - Suwnica (Ewa, the second company, whose currency counts twice the
      first's): 20,000 at 3%, raised to 30,000;
    - Ogrodzenie (Jan): created in the period at 10% (60,000), won in March;
    - Zadaszenie (Jan): 25,000 at 80%, won in February;
    - Rampa (Jan): 10,000 at 3% closing in May, pulled in to March;
    - Kontener (Jan): entered and won at the same moment, never open;
    - an unassigned opportunity (7,000 at 1%), one of the manager's own
      (9,000 at 2%, closing in March), one lost before the period, a lead."""

    def setUp(self):
        super().setUp()
        s = self.stages
        self.team_south = self.env["crm.team"].create(
            {"name": "Zespół Południe", "member_ids": [(4, self.user_salesman.id)]}
        )
        self.company_b = self.env["res.company"].create({"name": "Stalprofil Sever"})
        currency = self.env.ref(
            "base.EUR" if self.company.currency_id.name != "EUR" else "base.USD"
        )
        currency.active = True
        # one of the second company's currency is worth 2 of the first's
        self.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "company_id": False,
                "name": "2025-01-01",
                "rate": 0.5,
            }
        )
        self.company_b.currency_id = currency
        self.user_salesman_b = self._create_user(
            "sfp_salesman_b", "Ewa Maj", company=self.company_b
        )
        self.team_b = self.env["crm.team"].create(
            {
                "name": "Zespół Północ",
                "company_id": self.company_b.id,
                "member_ids": [(4, self.user_salesman_b.id)],
            }
        )
        self.user_manager.company_ids |= self.company_b
        self.user_salesman.company_ids |= self.company_b
        jan, anna = self.user_salesman, self.user_manager

        def create(name, stage, revenue, deadline=False, user=jan, **values):
            return self._create_opportunities(
                1,
                stage,
                user=anna,
                name=name,
                expected_revenue=revenue,
                date_deadline=deadline,
                user_id=user.id if user else False,
                **values,
            )

        with freeze_time("2025-11-10 09:00:00"):
            gone = create("Hala 2025", s[1], 8000)
        with freeze_time("2025-12-10 09:00:00"):
            gone.action_set_lost()
        with freeze_time("2025-12-12 09:00:00"):
            self.magazyn = create("Magazyn", s[3], 15000)
        with freeze_time("2026-01-05 09:00:00"):
            self.zadaszenie = create("Zadaszenie", s[13], 25000, "2026-02-27")
        with freeze_time("2026-01-08 09:00:00"):
            create("Bez opiekuna", s[1], 7000, user=False)
            create("Suwnica Anny", s[2], 9000, "2026-03-25", user=anna)
            create("Kontakt z targów", s[3], 50000, type="lead")
        with freeze_time("2026-01-10 09:00:00"):
            self.hala = create("Hala", s[3], 100000.40, "2026-03-15")
        with freeze_time("2026-01-12 09:00:00"):
            self.wiata = create("Wiata", s[5], 50000, "2026-03-20")
        with freeze_time("2026-01-15 09:00:00"):
            self.brama = create("Brama", s[4], 40000, "2026-04-30")
        with freeze_time("2026-01-20 09:00:00"):
            self.magazyn.action_set_lost()
            self.suwnica = create(
                "Suwnica",
                s[3],
                20000,
                "2026-03-10",
                user=self.user_salesman_b,
                team_id=self.team_b.id,
                company_id=self.company_b.id,
            )
            self.rampa = create("Rampa", s[3], 10000, "2026-05-15")
        with freeze_time(SNAPSHOT_MOMENT):
            self.env["sales.funnel.forecast.snapshot"]._take_snapshot(
                self.company | self.company_b, date(2026, 2, 1)
            )
        with freeze_time("2026-02-03 09:00:00"):
            self.ogrodzenie = create("Ogrodzenie", s[5], 60000, "2026-03-31")
        with freeze_time("2026-02-05 09:00:00"):
            self.hala.expected_revenue = 120000.40
        with freeze_time("2026-02-10 09:00:00"):
            self.hala.stage_id = s[8]
        with freeze_time("2026-02-12 09:00:00"):
            self.wiata.action_set_lost()
        with freeze_time("2026-02-15 09:00:00"):
            self.brama.team_id = self.team_south
        with freeze_time("2026-02-16 09:00:00"):
            getattr(self.magazyn, compat.RESTORE_METHOD)()
        with freeze_time("2026-02-18 09:00:00"):
            self.rampa.date_deadline = "2026-03-05"
        with freeze_time("2026-02-20 09:00:00"):
            self.hala.date_deadline = "2026-04-10"
            self.suwnica.expected_revenue = 30000
        with freeze_time("2026-02-25 09:00:00"):
            self.zadaszenie.action_set_won()
        with freeze_time("2026-03-02 09:00:00"):
            getattr(self.wiata, compat.RESTORE_METHOD)()  # the Restore button
        with freeze_time("2026-03-05 09:00:00"):
            self.hala.write({"expected_revenue": 110000.40, "probability": 30})
        with freeze_time("2026-03-10 09:00:00"):
            self.ogrodzenie.action_set_won()
        with freeze_time("2026-03-12 09:00:00"):
            # entered and won at once (one moment): never in the pipeline
            create("Kontener", s[5], 5000, "2026-03-12").action_set_won()
        self.env.flush_all()

    def _report(self, companies=None, **context):
        """The report as the current user reads it, in Warsaw, the companies
        ``companies`` (the first one only unless told) allowed."""
        companies = companies or self.company
        return self.env["sales.funnel.change.report"].with_context(
            tz="Europe/Warsaw",
            allowed_company_ids=companies.ids,
            **{f"sales_funnel_change_{key}": value for key, value in context.items()},
        )

    def _bars(self, report, domain=None):
        """{bar: (weighted, expected, rows)} as the graph reads it, in order."""
        groups = compat.grouped_read(
            report,
            domain or [],
            ["bar"],
            ["weighted_amount:sum", "expected_amount:sum", "__count"],
        )
        return {
            group["bar"]: (
                round(group["weighted_amount"], 2),
                round(group["expected_amount"], 2),
                group["__count"],
            )
            for group in groups
        }

    def _check_sum(self, bars):
        """The bars add up from the start to the end, to the grosz."""
        for index in (0, 1):
            changes = sum(
                value[index]
                for bar, value in bars.items()
                if bar not in ("start", "end")
            )
            self.assertAlmostEqual(
                bars.get("start", (0, 0))[index] + changes,
                bars.get("end", (0, 0))[index],
                places=2,
            )

    def _open_pipeline(self, companies=None):
        """(weighted, expected) of "Open Opportunities by Stage" as the current
        user reads it: its action's domain and its default filter."""
        companies = companies or self.company
        Lead = self.env["crm.lead"].with_context(allowed_company_ids=companies.ids)
        groups = compat.grouped_read(
            Lead,
            [
                ("type", "=", "opportunity"),
                ("probability", "<", 100),
                ("active", "=", True),
            ],
            ["company_id"],
            ["prorated_revenue:sum", "expected_revenue:sum"],
        )
        # an opportunity without a company counts in the current one
        totals = {}
        for group in groups:
            company = group["company_id"][0] if group["company_id"] else companies[0].id
            weighted, expected = totals.get(company, (0.0, 0.0))
            totals[company] = (
                round(weighted + group["prorated_revenue"], 2),
                round(expected + group["expected_revenue"], 2),
            )
        return totals

    def _snapshot(self, companies, month=None):
        """{company id: (weighted, expected)} of the forecast saved on
        1 February (of the closing month ``month`` only, if given)."""
        domain = [("date_snapshot", "=", "2026-02-01")]
        if month:
            domain.append(("date_expected", "=", month))
        lines = self.env["sales.funnel.forecast.snapshot"].sudo().search(domain)
        return {
            company.id: (
                round(
                    sum(
                        lines.filtered(lambda x, c=company: x.company_id == c).mapped(
                            "prorated_revenue"
                        )
                    ),
                    2,
                ),
                round(
                    sum(
                        lines.filtered(lambda x, c=company: x.company_id == c).mapped(
                            "expected_revenue"
                        )
                    ),
                    2,
                ),
            )
            for company in companies
        }

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_manager_waterfall(self):
        """A sales manager, the first company: every bar to the grosz."""
        bars = self._bars(self._report())
        self.assertEqual(
            bars,
            {
                # Hala 3,000.01, Wiata 5,000, Brama 2,000, Zadaszenie 20,000,
                # Rampa 300, unassigned 70, the manager's 180
                "start": (30550.01, 241000.40, 7),
                "new": (6000.0, 60000.0, 1),
                # Wiata, Magazyn
                "restored": (5450.0, 65000.0, 2),
                # Hala raised by 20,000 at 3%
                "raised": (600.0, 20000.0, 1),
                # Hala lowered by 10,000 at 25%
                "lowered": (-2500.0, -10000.0, 1),
                # Hala 3% to 25% (a stage move: 26,400.09), then 25% to 30% (by
                # hand: 5,500.02)
                "probability": (31900.11, 0.0, 2),
                "won": (-26000.0, -85000.0, 2),
                "lost": (-5000.0, -50000.0, 1),
                # Hala 33,000.12, Wiata 5,000, Magazyn 450, Brama 2,000, Rampa
                # 300, 70, 180
                "end": (41000.12, 241000.40, 7),
            },
        )
        # the graph's bars in the waterfall's order
        self.assertEqual(
            list(bars),
            [
                "start",
                "new",
                "restored",
                "raised",
                "lowered",
                "probability",
                "won",
                "lost",
                "end",
            ],
        )
        self._check_sum(bars)
        open_now = self._open_pipeline()
        self.assertEqual((bars["end"][0], bars["end"][1]), open_now[self.company.id])
        snapshot = self._snapshot(self.company)
        self.assertEqual(
            (bars["start"][0], bars["start"][1]), snapshot[self.company.id]
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_manager_companies_converted(self):
        """Both companies: the second one's amounts at twice their value (its
        currency's rate), the start the two saved forecasts converted, the
        end the two companies' open pipelines converted."""
        companies = self.company | self.company_b
        bars = self._bars(self._report(companies))
        self.assertEqual(bars["start"], (30550.01 + 1200.0, 241000.40 + 40000.0, 8))
        self.assertEqual(bars["raised"], (600.0 + 600.0, 20000.0 + 20000.0, 2))
        self.assertEqual(bars["end"], (41000.12 + 1800.0, 241000.40 + 60000.0, 8))
        self._check_sum(bars)
        snapshot = self._snapshot(companies)
        open_now = self._open_pipeline(companies)
        for index in (0, 1):
            self.assertAlmostEqual(
                bars["start"][index],
                snapshot[self.company.id][index]
                + 2 * snapshot[self.company_b.id][index],
                places=2,
            )
            self.assertAlmostEqual(
                bars["end"][index],
                open_now[self.company.id][index]
                + 2 * open_now[self.company_b.id][index],
                places=2,
            )

    @freeze_time(NOW)
    @users("sfp_salesman")
    def test_salesperson_own_and_unassigned(self):
        """A salesperson who sees their own opportunities and the unassigned
        ones: the manager's own opportunity (180 weighted) and the second
        company's salesperson's are not theirs; the end is their "Open
        Opportunities by Stage"."""
        bars = self._bars(self._report(self.company | self.company_b))
        self.assertEqual(bars["start"], (30550.01 - 180.0, 241000.40 - 9000.0, 6))
        self.assertEqual(bars["end"], (41000.12 - 180.0, 241000.40 - 9000.0, 6))
        self.assertEqual(bars["raised"], (600.0, 20000.0, 1))
        self._check_sum(bars)
        self.assertEqual(
            (bars["end"][0], bars["end"][1]), self._open_pipeline()[self.company.id]
        )
        leads = self._report(self.company | self.company_b).search([]).lead_id
        self.assertEqual(
            {lead.user_id.id for lead in leads}, {self.user_salesman.id, False}
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_moved_team_counts_in_its_current_team(self):
        """Brama, moved to "Zespół Południe" in February, counts there for the
        whole period (start and end), and not in its former team."""
        report = self._report()
        south = self._bars(report, [("team_id", "=", self.team_south.id)])
        self.assertEqual(
            south, {"start": (2000.0, 40000.0, 1), "end": (2000.0, 40000.0, 1)}
        )
        team = self._bars(report, [("team_id", "=", self.team.id)])
        self._check_sum(team)
        self.assertEqual(team["start"][:2], (28550.01, 201000.40))

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_closing_month(self):
        """March: its saved forecast on 1 February, Ogrodzenie new in it,
        Rampa pulled in from May, Hala raised and moved up a stage while in
        March, then pushed out to April (a slip: its later changes are not
        March's), Wiata lost and restored, Ogrodzenie won: March now."""
        bars = self._bars(self._report(month=MARCH))
        self.assertEqual(
            bars,
            {
                # Hala 3,000.01, Wiata 5,000, the manager's 180
                "start": (8180.01, 159000.40, 3),
                "new": (6000.0, 60000.0, 1),
                "restored": (5000.0, 50000.0, 1),
                "pulled_in": (300.0, 10000.0, 1),
                "pushed_out": (-30000.10, -120000.40, 1),
                "raised": (600.0, 20000.0, 1),
                "probability": (26400.09, 0.0, 1),
                "won": (-6000.0, -60000.0, 1),
                "lost": (-5000.0, -50000.0, 1),
                # Wiata 5,000, Rampa 300, the manager's 180
                "end": (5480.0, 69000.0, 3),
            },
        )
        self._check_sum(bars)
        snapshot = self._snapshot(self.company, MARCH)
        self.assertEqual(
            (bars["start"][0], bars["start"][1]), snapshot[self.company.id]
        )

    def _lead_bars(self, report, lead):
        """[(bar, weighted, expected)] of ``lead``'s rows, in their order."""
        return [
            (row.bar, row.weighted_amount, row.expected_amount)
            for row in report.search([("lead_id", "=", lead.id)], order="date, id")
        ]

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_closing_month_bounds(self):
        """A closing date on 1 April is April's, not March's: Kontener
        morski (Jan's, 20,000 at 3%), expected on 1 April, is out of March
        at the start, and pulled in from a later month when moved to 20
        March."""
        with freeze_time("2026-01-20 09:00:00"):
            lead = self._create_opportunities(
                1,
                self.stages[3],
                user=self.user_manager,
                name="Kontener morski",
                expected_revenue=20000,
                date_deadline="2026-04-01",
                user_id=self.user_salesman.id,
            )
        with freeze_time("2026-03-03 09:00:00"):
            lead.date_deadline = "2026-03-20"
        self.env.flush_all()
        self.assertEqual(
            self._lead_bars(self._report(month=MARCH), lead),
            [("pulled_in", 600.0, 20000.0), ("end", 600.0, 20000.0)],
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_closing_month_moved_to_an_earlier_month(self):
        """An expected closing date moved to an earlier month leaves March
        as moved, not pushed out (no slip): Kontener chłodniczy (Jan's,
        10,000 at 3%), expected on 15 March, moved to 27 February."""
        with freeze_time("2026-01-20 09:00:00"):
            lead = self._create_opportunities(
                1,
                self.stages[3],
                user=self.user_manager,
                name="Kontener chłodniczy",
                expected_revenue=10000,
                date_deadline="2026-03-15",
                user_id=self.user_salesman.id,
            )
        with freeze_time("2026-03-10 09:00:00"):
            lead.date_deadline = "2026-02-27"
        self.env.flush_all()
        self.assertEqual(
            self._lead_bars(self._report(month=MARCH), lead),
            [("start", 300.0, 10000.0), ("moved", -300.0, -10000.0)],
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_period_bounds_at_midnight_in_warsaw(self):
        """February (a past period) runs from the midnight opening 1 February
        in Warsaw (23:00 UTC on 31 January) to the one closing 28 February,
        both included: Hala Poznań (Jan's, 10,000 at 3%), created at the
        first midnight, is open at the start; raised to 20,000 at the last
        one, the raise is February's and its end holds it."""
        with freeze_time("2026-01-31 23:00:00"):
            lead = self._create_opportunities(
                1,
                self.stages[3],
                user=self.user_manager,
                name="Hala Poznań",
                expected_revenue=10000,
                user_id=self.user_salesman.id,
            )
        with freeze_time("2026-02-28 23:00:00"):
            lead.expected_revenue = 20000
        self.env.flush_all()
        # (the raise and the end at the same moment: in no order)
        self.assertCountEqual(
            self._lead_bars(
                self._report(**{"from": "2026-02-01", "to": "2026-02-28"}), lead
            ),
            [
                ("start", 300.0, 10000.0),
                ("raised", 300.0, 10000.0),
                ("end", 600.0, 20000.0),
            ],
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_lost_after_midnight_in_warsaw_on_a_utc_day_before(self):
        """Wiata Opole (Jan's, 10,000 at 3%) is lost at 00:30 on 1 February
        in Warsaw by an API client writing in UTC: its process ended on 31
        January (the writer's day), before the period, and yet the loss is
        February's, seen from Warsaw."""
        with freeze_time("2026-01-20 09:00:00"):
            lead = self._create_opportunities(
                1,
                self.stages[3],
                user=self.user_manager,
                name="Wiata Opole",
                expected_revenue=10000,
                user_id=self.user_salesman.id,
            )
        with freeze_time("2026-01-31 23:30:00"):
            lead.with_context(tz="UTC").action_set_lost()
        self.env.flush_all()
        self.assertEqual(lead.date_process_end, date(2026, 1, 31))
        self.assertEqual(
            self._lead_bars(
                self._report(**{"from": "2026-02-01", "to": "2026-02-28"}), lead
            ),
            [("start", 300.0, 10000.0), ("lost", -300.0, -10000.0)],
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_changes_behind_a_bar(self):
        """Each bar opens its changes, the largest first: the slip of Hala
        (30,000.10) on top of the pushed-out ones, with its values before and
        after and its closing dates."""
        report = self._report(month=MARCH)
        slips = report.search([("bar", "=", "pushed_out")])
        self.assertEqual(slips.lead_id, self.hala)
        self.assertRecordValues(
            slips,
            [
                {
                    "weighted_amount": -30000.10,
                    "weighted_before": 30000.10,
                    "weighted_after": 30000.10,
                    "date_deadline_before": date(2026, 3, 15),
                    "date_deadline_after": date(2026, 4, 10),
                    "user_id": self.user_salesman.id,
                    "team_id": self.team.id,
                }
            ],
        )
        rows = report.search([])
        self.assertEqual(
            rows.mapped("weighted_impact"),
            sorted(rows.mapped("weighted_impact"), reverse=True),
        )

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_a_past_period(self):
        """A period that ended: from 1 to 28 February, its end is the pipeline
        of midnight opening 1 March, values of the changes made since."""
        bars = self._bars(self._report(**{"from": "2026-02-01", "to": "2026-02-28"}))
        self._check_sum(bars)
        # Hala 30,000.10, Wiata lost, Magazyn 450, Brama 2,000, Ogrodzenie
        # 6,000, Rampa 300, 70 and 180
        self.assertEqual(bars["end"], (39000.10, 261000.40, 7))

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_bad_period(self):
        with self.assertRaises(UserError):
            self._bars(self._report(**{"from": "2026-03-10", "to": "2026-03-01"}))
        with self.assertRaises(UserError):
            self._bars(self._report(**{"from": "2026-04-01", "to": "2026-04-10"}))

    @freeze_time(NOW)
    @users("sfp_manager")
    def test_read_is_one_query(self):
        """The graph's read is one statement, whatever the history, after
        JIT turned off for the transaction (``utils.jit_off``)."""
        report = self._report()
        self._bars(report)  # warm the caches
        with self.assertQueryCount(sfp_manager=2):
            self._bars(report)
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone(), ("off",))

    @freeze_time(NOW)
    @users("sfp_salesman")
    def test_period_wizard(self):
        """The menu's dialog: from the 1st of last month to today (Warsaw's
        day), and the waterfall it opens reads that period and month."""
        wizard = (
            self.env["sales.funnel.change.period"]
            .with_context(tz="Europe/Warsaw")
            .create({"date_month": "2026-03-17", "team_id": self.team.id})
        )
        self.assertEqual(
            (wizard.date_from, wizard.date_to), (date(2026, 2, 1), date(2026, 3, 20))
        )
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "sales.funnel.change.report")
        context = action["context"]
        self.assertEqual(
            (
                context["sales_funnel_change_from"],
                context["sales_funnel_change_to"],
                context["sales_funnel_change_month"],
                context["search_default_team_id"],
            ),
            ("2026-02-01", "2026-03-20", "2026-03-17", self.team.id),
        )
        bars = self._bars(
            self.env["sales.funnel.change.report"].with_context(
                context, allowed_company_ids=self.company.ids
            )
        )
        # March, as the salesperson sees it: not the manager's own (180)
        self.assertEqual(bars["start"], (8000.01, 150000.40, 2))
        self.assertEqual(bars["end"], (5300.0, 60000.0, 2))
        with self.assertRaises(ValidationError):
            wizard.date_from = "2026-04-01"
