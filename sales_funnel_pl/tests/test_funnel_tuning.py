# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.sales_funnel_pl import compat
from odoo.addons.sales_funnel_pl.wizard.crm_stage_tuning import (
    STUCK_DAYS_FIELD,
    pool_adjacent_violators,
)

from .common_companies import SalesFunnelCompaniesCommon

# the day the tests read the screen: its default period is July 2025 to
# June 2026 (the last 12 months, as the funnel board counts them)
TODAY = "2026-06-15 09:00:00"


def at(day):
    """9:00 UTC (10:00 or 11:00 in Warsaw) of ``day`` ("MM-DD" of 2026)."""
    return f"2026-{day} 09:00:00"


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestFunnelTuning(SalesFunnelCompaniesCommon):
    """ "Dopasowanie lejka" on a history built for it. The funnel is cut to
    its first five stages and the won one (A, B, C, D, E, W), and the
    processes of the tests' team, all started on 5 January 2026, are:

    - P1a (5): A → B (7.01) → C (12.01) → E (2.02, D skipped) → won (2.03);
    - P1b (4): A → C (15.01, B skipped) → E (2.02, D skipped) → won (9.03);
    - P2 (1): A → C (15.01, B skipped) → D (27.01) → won (2.03, E skipped);
    - P3 (10): A → B (7.01) → lost (10.02);
    - P4 (6): A → B (9.01) → C (19.01) → lost (16.03);
    - P5 (4): A → lost (25.01): never reached B;

    and besides them, which count nowhere on the team's screen: two still
    open in C, two won in April 2025 (before the period). Another team
    ("Zespół Projektowy") works a stage of its own between B and C, which
    three of its processes entered (A → it → won). The second company's
    salesperson lost two at A.

    So, on the team's screen (minimum sample 10): A 10 won of 30, B 5 of
    21, C 10 of 16, D 1 of 1, E 9 of 9, W 10 of 10; A's rate is above B's,
    pooled: 15 of 51 (29.41%) for both; D is skipped by 9 of the 10 wins."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the history dates its rows with the transaction's time: the clock's
        cls.classPatch(type(cls.env.cr), "now", lambda cr: fields.Datetime.now())
        cls._keep_funnel_only("delete")
        cls.stages[5:16].active = False
        cls.stage_a, cls.stage_b, cls.stage_c, cls.stage_d, cls.stage_e = cls.stages[:5]
        cls.funnel = cls.stages[:5] | cls.stage_won
        cls.env["ir.config_parameter"].sudo().set_param(
            "sales_funnel_pl.tuning_min_sample", 10
        )
        cls.team_x = cls.env["crm.team"].create(
            {"name": "Zespół Projektowy", "member_ids": [(4, cls.user_salesman.id)]}
        )
        cls.stage_x = cls.env["crm.stage"].create(
            {
                "name": "Prezentacja techniczna",
                "sequence": 2,  # after B ("Need Information"), before C
                "probability": 12,
                "is_funnel_stage": True,
                **compat.stage_team_values(cls.team_x),
            }
        )
        A, B, C, D, E = cls.stage_a, cls.stage_b, cls.stage_c, cls.stage_d, cls.stage_e
        with freeze_time("2025-03-03 09:00:00"):
            old = cls._create_opportunities(2, A, name="Dawna")
        cls._history(
            ("2025-03-10 09:00:00", old, B), ("2025-04-01 09:00:00", old, "won")
        )
        with freeze_time(at("01-05")):
            cls.p1a = cls._create_opportunities(5, A, name="P1a")
            cls.p1b = cls._create_opportunities(4, A, name="P1b")
            cls.p2 = cls._create_opportunities(1, A, name="P2")
            cls.p3 = cls._create_opportunities(10, A, name="P3")
            cls.p4 = cls._create_opportunities(6, A, name="P4")
            cls.p5 = cls._create_opportunities(4, A, name="P5")
            cls.open = cls._create_opportunities(2, A, name="Otwarta")
            cls.p_x = cls._create_opportunities(3, A, name="PX", team_id=cls.team_x.id)
            cls.p_b = cls._create_opportunities(
                2,
                A,
                name="PB",
                user=cls.user_salesman_b,
                user_id=cls.user_salesman_b.id,
                team_id=cls.team_b.id,
                company_id=cls.company_b.id,
            )
        cls._history(
            (at("01-07"), cls.p1a | cls.p3 | cls.open, B),
            (at("01-09"), cls.p4, B),
            (at("01-12"), cls.p1a, C),
            (at("01-15"), cls.p1b | cls.p2, C),
            (at("01-15"), cls.p_x, cls.stage_x),
            (at("01-19"), cls.p4 | cls.open, C),
            (at("01-20"), cls.p_b, "lost"),
            (at("01-25"), cls.p5, "lost"),
            (at("01-27"), cls.p2, D),
            (at("02-02"), cls.p1a | cls.p1b, E),
            (at("02-10"), cls.p3, "lost"),
            (at("03-02"), cls.p1a | cls.p2 | cls.p_x, "won"),
            (at("03-09"), cls.p1b, "won"),
            (at("03-16"), cls.p4, "lost"),
        )
        cls.won = cls.p1a | cls.p1b | cls.p2

    def _screen(self, user=None, team=None, **values):
        """The screen as ``user`` (the sales manager unless told) opens it on
        the tests' day, for ``team`` (the tests' team unless told; False:
        every team): {stage: line}."""
        user = user or self.user_manager
        team = self.team if team is None else team
        with freeze_time(TODAY):
            tuning = (
                self.env["crm.stage.tuning"]
                .with_user(user)
                .create({"team_id": team.id if team else False, **values})
            )
        return tuning, {line.stage_id: line for line in tuning.line_ids}

    def _figures(self, line):
        return (
            line.entered_count,
            line.won_count,
            round(line.win_rate, 2),
            line.skipped_count,
            round(line.skip_rate, 2),
        )

    def test_stages_in_funnel_order(self):
        tuning, lines = self._screen()
        self.assertEqual(tuning.date_from, date(2025, 7, 1))
        self.assertEqual(tuning.date_to, date(2026, 6, 30))
        self.assertEqual([line.stage_id for line in tuning.line_ids], list(self.funnel))

    def test_known_win_rate_and_interval(self):
        """A: every process of the period entered it, 10 of 30 won; the
        Wilson interval of 10 out of 30 is 19.23% to 51.22%."""
        _tuning, lines = self._screen()
        line = lines[self.stage_a]
        self.assertEqual(self._figures(line), (30, 10, 33.33, 0, 0.0))
        self.assertEqual(
            (round(line.win_rate_low, 2), round(line.win_rate_high, 2)),
            (19.23, 51.22),
        )
        self.assertEqual(line.probability, 0)
        self.assertTrue(line.has_suggestion)

    def test_lost_before_the_stage_is_not_in_its_sample(self):
        """B: P5, lost at A, never reached B: not in its sample (5 won of
        21: P1a, P3, P4); P1b and P2 skipped it (5 of 26 passing it). C:
        those lost at B never reached it (10 won of 16)."""
        _tuning, lines = self._screen()
        self.assertEqual(self._figures(lines[self.stage_b]), (21, 5, 23.81, 5, 19.23))
        self.assertEqual(self._figures(lines[self.stage_c]), (16, 10, 62.5, 0, 0.0))
        self.assertEqual(
            (
                round(lines[self.stage_c].win_rate_low, 2),
                round(lines[self.stage_c].win_rate_high, 2),
            ),
            (38.64, 81.52),
        )

    def test_open_and_earlier_processes_do_not_count(self):
        """The two open ones entered A, B and C, the two won in April 2025
        A and B: none counts (neither as lost nor at all)."""
        _tuning, lines = self._screen()
        self.assertEqual(
            [lines[stage].entered_count for stage in self.funnel],
            [30, 21, 16, 1, 9, 10],
        )
        self.assertEqual(
            [lines[stage].won_count for stage in self.funnel], [10, 5, 10, 1, 9, 10]
        )

    def test_pooling_fixes_a_violation(self):
        """A (10 of 30) promises more than B (5 of 21): pooled, 15 of 51 for
        both; the later stages keep their own rates."""
        _tuning, lines = self._screen()
        self.assertEqual(
            [lines[stage].suggested_probability for stage in self.funnel],
            [29.41, 29.41, 62.5, 100.0, 100.0, 100.0],
        )
        self.assertEqual(
            pool_adjacent_violators([(10, 30), (5, 21), (10, 16), (1, 1)]),
            [15 / 51, 15 / 51, 10 / 16, 1.0],
        )
        # a drop over three stages pools all three, each weighing its sample
        self.assertEqual(
            pool_adjacent_violators([(6, 10), (2, 10), (1, 20), (9, 10)]),
            [9 / 40, 9 / 40, 9 / 40, 0.9],
        )

    def test_sample_under_the_minimum(self):
        """D (1 process) and E (9) are under the minimum of 10: no
        suggestion, "too little data"; the minimum is the setting."""
        _tuning, lines = self._screen()
        self.assertEqual(
            [lines[stage].has_suggestion for stage in self.funnel],
            [True, True, True, False, False, True],
        )
        self.assertEqual(lines[self.stage_e].note, "too little data")
        self.assertEqual(lines[self.stage_c].note, "")
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_funnel_pl.tuning_min_sample", 9
        )
        _tuning, lines = self._screen()
        self.assertTrue(lines[self.stage_e].has_suggestion)
        with self.assertRaisesRegex(UserError, "Too little data"):
            lines[self.stage_d].action_apply_probability()

    def test_stage_skipped_by_most_wins(self):
        """D: 9 of the 10 wins skipped it (90%, the setting says 80%):
        archive it? E: 1 of 10 skipped it; B: 5 of 10."""
        _tuning, lines = self._screen()
        line = lines[self.stage_d]
        self.assertEqual((line.won_skipped_count, line.won_skip_rate), (9, 90.0))
        self.assertEqual(self._figures(line), (1, 1, 100.0, 9, 90.0))
        self.assertEqual(
            [lines[stage].suggest_archive for stage in self.funnel],
            [False, False, False, True, False, False],
        )
        self.assertEqual(
            line.note, "too little data; archive the stage? 90% of wins skip it"
        )
        self.assertEqual(lines[self.stage_b].won_skip_rate, 50.0)
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_funnel_pl.tuning_archive_skip_rate", 95
        )
        _tuning, lines = self._screen()
        self.assertFalse(lines[self.stage_d].suggest_archive)
        lines[self.stage_d].action_archive_stage()
        self.assertFalse(self.stage_d.active)

    def test_days_in_stage(self):
        """Median and 75th percentile of the days from stage date to stage
        date, as the stage analysis counts them (a loss leaves the stage on
        its day); the won stage, never left, has none."""
        _tuning, lines = self._screen()
        self.assertEqual(
            [
                (lines[stage].median_days, lines[stage].p75_days)
                for stage in self.funnel
            ],
            [
                (3.0, 10.0),
                (10.0, 34.0),
                (21.0, 56.0),
                (34.0, 34.0),
                (28.0, 35.0),
                (0, 0),
            ],
        )
        # the stage analysis' median of the same entries
        Report = self.env["sales.funnel.stage.report"].with_user(self.user_manager)
        medians = dict(
            (stage.id, median)
            for stage, median in Report._read_group(
                [
                    ("lead_id", "in", (self.won | self.p3 | self.p4 | self.p5).ids),
                    ("stage_id", "in", self.funnel.ids),
                ],
                ["stage_id"],
                ["median_days:median"],
            )
        )
        self.assertEqual(
            [medians[stage.id] for stage in self.funnel[:5]],
            [lines[stage].median_days for stage in self.funnel[:5]],
        )

    def test_team_specific_stage(self):
        """The other team's own stage: on its screen, between B and C, 3 of 3
        won (they skipped B, C, D, E); on every team's screen, the tests'
        team's processes never skipped it; not on the tests' team's."""
        _tuning, lines = self._screen(team=self.team_x)
        self.assertEqual(
            list(lines),
            list(self.stages[:2] | self.stage_x | self.stages[2:5]) + [self.stage_won],
        )
        self.assertEqual(self._figures(lines[self.stage_x]), (3, 3, 100.0, 0, 0.0))
        self.assertEqual(self._figures(lines[self.stage_b]), (0, 0, 0.0, 3, 100.0))
        _tuning, lines = self._screen(team=False)
        self.assertEqual(self._figures(lines[self.stage_x]), (3, 3, 100.0, 0, 0.0))
        self.assertEqual(self._figures(lines[self.stage_a]), (35, 13, 37.14, 0, 0.0))
        self.assertEqual(self._figures(lines[self.stage_b]), (21, 5, 23.81, 8, 27.59))
        _tuning, lines = self._screen()
        self.assertNotIn(self.stage_x, lines)

    def test_other_company(self):
        """A manager of the first company only does not count the second
        company's processes (two lost at A); the manager of both does."""
        _tuning, lines = self._screen(user=self.user_manager_a, team=False)
        self.assertEqual(self._figures(lines[self.stage_a]), (33, 13, 39.39, 0, 0.0))
        ids = lines[self.stage_a].action_open_entered()["domain"][0][2]
        self.assertFalse(set(ids) & set(self.p_b.ids))
        _tuning, lines = self._screen(team=False)
        self.assertEqual(lines[self.stage_a].entered_count, 35)

    def test_salesperson_denied(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage.tuning"].with_user(self.user_salesman).create({})
        _tuning, lines = self._screen()
        with self.assertRaises(AccessError):
            lines[self.stage_a].with_user(self.user_salesman).read(["won_count"])
        menu = self.env.ref("sales_funnel_pl.crm_stage_tuning_menu")
        Menu = self.env["ir.ui.menu"]
        self.assertNotIn(
            menu.id, Menu.with_user(self.user_salesman)._visible_menu_ids()
        )
        self.assertIn(menu.id, Menu.with_user(self.user_manager)._visible_menu_ids())

    def test_figures_open_their_opportunities(self):
        """Each figure opens exactly the opportunities it counts."""
        _tuning, lines = self._screen()
        Lead = self.env["crm.lead"].with_context(active_test=False)
        cases = [
            (self.stage_b, "action_open_entered", self.p1a | self.p3 | self.p4),
            (self.stage_b, "action_open_won", self.p1a),
            (self.stage_b, "action_open_lost", self.p3 | self.p4),
            (self.stage_b, "action_open_skipped", self.p1b | self.p2),
            (self.stage_d, "action_open_won_skipped", self.p1a | self.p1b),
            (self.stage_c, "action_open_days", self.won | self.p4),
        ]
        for stage, method, expected in cases:
            with self.subTest(stage=stage.name, method=method):
                action = getattr(lines[stage], method)()
                self.assertEqual(action["res_model"], "crm.lead")
                self.assertFalse(action["useSampleModel"])
                self.assertEqual(Lead.search(action["domain"]), expected)
        line = lines[self.stage_b]
        self.assertEqual(
            (line.entered_count, line.won_count, line.lost_count, line.skipped_count),
            (21, 5, 16, 5),
        )

    def test_apply_one_stage(self):
        """Applying C's suggestion writes its % only; the open
        opportunities standing in C keep theirs unless asked."""
        _tuning, lines = self._screen()
        stage_b_probability = self.stage_b.probability
        stage_c_probability = self.stage_c.probability
        lines[self.stage_c].action_apply_probability()
        self.assertEqual(self.stage_c.probability, 62.5)
        self.assertEqual(self.stage_b.probability, stage_b_probability)
        self.assertEqual(set(self.open.mapped("probability")), {stage_c_probability})
        # asked: re-applied to them, with the stage form's re-apply
        _tuning, lines = self._screen(reapply_open=True)
        result = lines[self.stage_c].action_apply_probability()
        self.assertEqual(set(self.open.mapped("probability")), {62.5})
        self.assertIn(": 2.", result["params"]["message"])

    def test_apply_all(self):
        """Every stage with a suggestion that differs gets it (A, B, C and
        W already at 100: A, B, C); D and E (too little data) keep theirs."""
        tuning, _lines = self._screen()
        before = {stage: stage.probability for stage in self.funnel}
        result = tuning.action_apply_all()
        self.assertEqual(
            result["params"]["message"],
            "Suggested probability applied to 3 stages.",
        )
        self.assertEqual(
            [stage.probability for stage in self.funnel],
            [29.41, 29.41, 62.5, before[self.stage_d], before[self.stage_e], 100],
        )
        self.assertEqual(set(self.open.mapped("probability")), {before[self.stage_c]})
        with self.assertRaisesRegex(UserError, "No stage has a suggested"):
            self._screen()[0].action_apply_all()

    def test_stuck_days_from_the_75th_percentile(self):
        """C's 75th percentile (56 days) becomes its stuck days, once the
        stages have them; until then the screen does not offer it."""
        _tuning, lines = self._screen()
        line = lines[self.stage_c]
        if STUCK_DAYS_FIELD not in self.env["crm.stage"]._fields:
            self.assertFalse(line.can_set_stuck_days)
            with self.assertRaises(UserError):
                line.action_apply_stuck_days()
            return
        self.assertTrue(line.can_set_stuck_days)
        line.action_apply_stuck_days()
        self.assertEqual(self.stage_c[STUCK_DAYS_FIELD], 56)

    def _count_read(self):
        """The queries of the screen's read (create, as the menu's action
        does, and the lines the form shows, with the context the web client
        sends), once the same read has filled Odoo's caches."""
        self.env = self.env(
            context=dict(self.env.context, lang="pl_PL", tz="Europe/Warsaw")
        )

        def read():
            tuning, _lines = self._screen()
            tuning.line_ids.read(["stage_id", "entered_count", "note", "probability"])

        read()
        self.env.invalidate_all()
        # a request starts with its user loaded (the session's check)
        self.user_manager.with_env(self.env).company_id  # noqa: B018
        before = self.env.cr.sql_log_count
        read()
        return self.env.cr.sql_log_count - before

    def test_read_query_count(self):
        """The screen's read as the web client makes it, exactly: the
        screen written, the funnel's stages searched and put in their order,
        JIT turned off for the transaction (``utils.jit_off``), the figures'
        one statement, the stages read, the lines searched and written: 8
        queries, on both series. No more for 30 processes more."""
        budget = 8
        small = self._count_read()
        self.assertEqual(small, budget)
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone()[0], "off")
        with freeze_time(at("01-05")):
            more = self._create_opportunities(30, self.stage_a, name="Więcej")
        self._history((at("02-05"), more, self.stage_c), (at("02-06"), more, "lost"))
        self.assertEqual(self._count_read(), budget)
        _tuning, lines = self._screen()
        self.assertEqual(lines[self.stage_a].entered_count, 60)
