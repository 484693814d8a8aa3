# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from datetime import datetime, timedelta

import pytz
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import Form, tagged
from odoo.tools import SQL

from .. import compat
from ..report import sales_funnel_stage_rollup as rollup
from ..report.sales_funnel_stage_report import _median, _percent
from ..report.sql import ENTRY_CHANGES
from ..utils import percent_sql
from .common_companies import SalesFunnelCompaniesCommon

AGGREGATES = sorted(
    [
        "__count",
        "entered_count:sum",
        "opportunity_count:sum",
        "won_count:sum",
        "skipped_count:sum",
        "moved_on_count:sum",
        "lost_count:sum",
        "conversion:avg",
        "duration_days:avg",
        "median_days:median",
    ]
)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageRollup(SalesFunnelCompaniesCommon):
    """ "Analiza etapów" reads its screen from sums the database keeps with
    the history (``sales.funnel.stage.rollup``). After every kind of change
    (moves with skips, a stage entered again, wins, losses, restores, a
    reopened win, a stage mapping, a stage reordered and archived, a
    stage's "won" unticked, a manager's date correction, a merge, a
    company change, a deletion, writers in Warsaw and in UTC, two
    companies, a team with its own stages) the marks are those the rows
    say, the sums those the rows give, and the screen's figures read from
    the sums are those read from the rows, to the last digit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the history's moments follow the frozen clock here too (setUp does
        # it for the tests)
        cls.classPatch(type(cls.env.cr), "now", lambda cr: fields.Datetime.now())
        s = cls.stages
        # the end of February in Warsaw is March in UTC's month: the
        # period's edge is read from the rows
        with freeze_time("2026-02-27 23:30:00"):
            cls.leads = cls._create_opportunities(4, s[0])
        with freeze_time("2026-03-02 09:00:00"):
            cls.other = cls._create_opportunities(
                2,
                cls.other_stages[0],
                user=cls.user_salesman_utc,
                team_id=cls.team_other.id,
            )
            cls.lead_b = (
                cls.env["crm.lead"]
                .with_user(cls.user_salesman_b)
                .create(
                    {
                        "name": "Szansa Północ",
                        "type": "opportunity",
                        "stage_id": s[0].id,
                        "team_id": cls.team_b.id,
                        "company_id": cls.company_b.id,
                        "expected_revenue": 7000,
                    }
                )
            )
        a, b, c, d = cls.leads
        cls._history(
            # a batch, then one of them skipping two stages
            ("2026-03-03 09:00:00", a | b | c, s[1]),
            ("2026-03-04 09:00:00", a, s[4]),
            # back, and into the same stage again
            ("2026-03-05 09:00:00", a, s[1]),
            ("2026-03-06 09:00:00", a, s[4]),
            ("2026-03-31 22:30:00", b, s[3]),
            # at the first instant of April (UTC): a period "after" it
            # leaves it out, one "from" it takes it
            ("2026-04-01 00:00:00", d, s[1]),
            ("2026-04-01 07:00:00", c, "lost"),
            ("2026-04-02 07:00:00", d, s[2]),
            ("2026-04-02 07:00:00", cls.lead_b, s[2]),
        )
        with freeze_time("2026-04-03 07:00:00"):
            cls.other.with_user(cls.user_salesman_utc).write(
                {"stage_id": cls.other_stages[1].id}
            )

    def setUp(self):
        super().setUp()
        # the manager works in both companies (the company switcher)
        self.Report = (
            self.env["sales.funnel.stage.report"]
            .with_user(self.user_manager)
            .with_context(allowed_company_ids=(self.company | self.company_b).ids)
        )

    def _domains(self):
        """The screen's default (the current funnel, the last 12 months from
        the user's 1st of the month), all time, a period from a moment in a
        month and from a month's first instant, stages, a company."""
        today = fields.Date.context_today(self.user_manager)
        warsaw = pytz.timezone("Europe/Warsaw")
        start = warsaw.localize(
            datetime(today.year - (today.month <= 11), (today.month - 12) % 12 + 1, 1)
        ).astimezone(pytz.utc)
        return [
            [
                ("stage_id.active", "=", True),
                ("date_enter", ">=", start.strftime("%Y-%m-%d %H:%M:%S")),
            ],
            [],
            [("date_enter", ">=", "2026-03-05 10:00:00")],
            [("date_enter", ">", "2026-04-01 00:00:00")],
            [("date_enter", ">=", "2026-04-01 00:00:00")],
            [("date_enter", ">=", "2026-02-28 23:00:00")],
            [("stage_id", "in", (self.stages[1] | self.stages[4]).ids)],
            [("company_id", "in", self.company_b.ids)],
        ]

    def assertExact(self):
        self.maxDiff = None
        self.env.flush_all()
        History = self.env["crm.lead.stage.history"].sudo()
        rows = History.search([], order="lead_id, date_enter, id")
        by_lead = defaultdict(list)
        for row in rows:
            by_lead[row.lead_id].append(row)
        expected, actual = {}, {}
        for lead, lead_rows in by_lead.items():
            won = compat.lead_is_won(lead)
            entries = [
                row
                for row in lead_rows
                if row.change_type in ENTRY_CHANGES and row.stage_id
            ]
            for row in lead_rows:
                later = entries[entries.index(row) + 1 :] if row in entries else []
                expected[row.id] = (
                    any(entry.stage_id == row.stage_id for entry in later),
                    bool(entries) and row == entries[-1],
                    won,
                )
                actual[row.id] = (row.visit_repeated, row.entry_last, row.lead_won)
        self.assertEqual(actual, expected)
        # the sums, folded or not, are those of the rows
        sums = SQL(", ").join(
            SQL("SUM(%s)", SQL.identifier(m)) for m in rollup.MEASURES
        )
        nonzero = SQL(" OR ").join(
            SQL("SUM(%s) <> 0", SQL.identifier(m)) for m in rollup.MEASURES
        )
        keys = SQL(", ").join(SQL.identifier(k) for k in rollup.KEYS)
        self.env.cr.execute(
            SQL(
                "SELECT %s, %s FROM (%s) s GROUP BY %s HAVING %s ORDER BY %s",
                keys,
                sums,
                self.env["sales.funnel.stage.rollup"]._expected_sums_sql(),
                keys,
                nonzero,
                keys,
            )
        )
        from_rows = self.env.cr.fetchall()
        self.assertTrue(from_rows)
        self.env.cr.execute(
            SQL(
                "SELECT %s, %s FROM sales_funnel_stage_rollup GROUP BY %s HAVING %s"
                " ORDER BY %s",
                keys,
                sums,
                keys,
                nonzero,
                keys,
            )
        )
        self.assertEqual(self.env.cr.fetchall(), from_rows)
        # the screen: the figures from the sums, then from the rows
        for domain in self._domains():
            for groupby in ([], ["stage_id"]):
                with self.subTest(domain=domain, groupby=groupby):
                    fast = self.Report._read_group_rollup(
                        domain, [groupby], AGGREGATES, None
                    )
                    self.assertIsNotNone(fast)
                    slow = self.Report.with_context(
                        sales_funnel_stage_rows=True
                    )._read_group(domain, groupby, AGGREGATES)
                    self.assertEqual(fast[0], slow)

    def test_every_kind_of_change(self):
        s = self.stages
        a, b, c, d = self.leads
        self.assertExact()
        # the figures are not all zeros: opportunities counted once
        rows = self.Report._read_group([], ["stage_id"], ["opportunity_count:sum"])
        self.assertEqual(
            {stage: count for stage, count in rows if stage in s},
            {s[0]: 5, s[1]: 4, s[2]: 2, s[3]: 1, s[4]: 1},
        )
        # 7 created (5 in the funnel, 2 in the service team's stages), 12
        # moves (a's 4, b's 2, c's, d's 2, the northern one's, the service
        # team's 2), the loss no entry: 7 opportunities
        self.assertEqual(
            self.Report._read_group(
                [], [], ["entered_count:sum", "opportunity_count:sum"]
            ),
            [(19, 7)],
        )
        steps = [
            ("won", lambda: self._history(("2026-04-10 09:00:00", a, "won"))),
            (
                "a win reopened",
                lambda: self._history(("2026-04-11 09:00:00", a, s[10])),
            ),
            ("won again", lambda: self._history(("2026-04-12 09:00:00", a | b, "won"))),
            # a move whose moment is before the opportunity's last row (a
            # transaction that started before another's move of it): its
            # row is not the last, the marks are decided again
            (
                "moved before its last row",
                lambda: self._history(("2026-04-05 09:00:00", a, s[1])),
            ),
            ("date corrected", self._correct_date),
            ("restored", lambda: self._restore(c)),
            ("mapped", self._map),
            ("reordered", lambda: s[2].write({"sequence": s[10].sequence + 1})),
            ("archived", lambda: s[1].write({"active": False})),
            ("won unticked", lambda: s[16].write({"is_won": False})),
            ("merged", self._merge),
            ("company changed", lambda: d.write({"company_id": self.company_b.id})),
            ("deleted", lambda: self.lead_b.sudo().unlink()),
            ("written without marks", self._insert_unmarked),
        ]
        for label, step in steps:
            with self.subTest(step=label):
                step()
                self.assertExact()

    def _insert_unmarked(self):
        """A row written by SQL without the marks (a data migration, say),
        after b's last: the database sets them."""
        b = self.leads[1]
        self.env.flush_all()
        self.env.cr.execute(
            """INSERT INTO crm_lead_stage_history
                   (lead_id, stage_id, change_type, date_enter, report_company_id)
               VALUES (%s, %s, 'import', '2026-04-30 09:00:00', %s)""",
            [b.id, self.stages[6].id, b.company_id.id],
        )
        self.env["crm.lead.stage.history"].invalidate_model()

    def _restore(self, lead):
        with freeze_time("2026-04-13 09:00:00"):
            getattr(lead, compat.RESTORE_METHOD)()

    def _map(self):
        """An old stage of the company's, mapped onto the funnel's."""
        old = self._create_old_stages({"Stary etap": 5})
        with freeze_time("2026-04-14 09:00:00"):
            leads = self._create_opportunities(2, old)
        with freeze_time("2026-04-15 09:00:00"):
            with Form(self.env["crm.stage.map"].with_user(self.user_manager)) as form:
                for index in range(len(form.line_ids)):
                    with form.line_ids.edit(index) as line:
                        if line.source_stage_id == old:
                            line.target_stage_id = self.stages[5]
            form.record.action_apply()
        self.assertEqual(leads.stage_id, self.stages[5])

    def _correct_date(self):
        """A sales manager moves the date of b's stage before its win back a
        day: the days in it and in the stage before change."""
        b = self.leads[1]
        row = b.stage_history_ids.filtered(lambda row: row.stage_id == self.stages[3])
        self.assertEqual(row.date_stage, fields.Date.to_date("2026-04-01"))
        row.with_user(self.user_manager).write(
            {"date_stage": row.date_stage - timedelta(days=1)}
        )
        self.assertEqual(row.duration_days, 12)

    def _merge(self):
        """crm's merge wizard: the rows of one of c and d go to the other."""
        b, d = self.leads[2], self.leads[3]
        with freeze_time("2026-04-20 09:00:00"):
            wizard = (
                self.env["crm.merge.opportunity"]
                .with_user(self.user_manager)
                .with_context(active_model="crm.lead", active_ids=(b | d).ids)
                .create({"user_id": self.user_salesman.id, "team_id": self.team.id})
            )
            wizard.action_merge()

    def test_percent_and_median_as_postgresql_computes_them(self):
        """The conversion and the median made from the sums are the floats
        PostgreSQL gives from the rows (its rounding half away from zero:
        3.125 is 3.13; its interpolation between the two middle values)."""
        pairs = [(won, count) for count in range(1, 65) for won in range(count + 1)]
        self.env.cr.execute(
            SQL(
                """SELECT %s FROM unnest(%s::int[], %s::int[]) WITH ORDINALITY
                          AS p(won, count, n) ORDER BY n""",
                percent_sql(SQL("p.won::float"), SQL("p.count")),
                [won for won, _count in pairs],
                [count for _won, count in pairs],
            )
        )
        self.assertEqual(
            [_percent(won, count) for won, count in pairs],
            [row[0] for row in self.env.cr.fetchall()],
        )
        self.assertEqual(_percent(1, 32), 3.13)
        for histogram in (
            [(3.0, 1)],
            [(3.0, 2)],
            [(1.0, 1), (4.0, 1)],
            [(0.0, 3), (2.5, 2), (7.25, 4)],
            [(1.1, 1), (2.2, 1), (3.3, 1), (4.4, 1)],
            [(0.01, 5), (17.0, 2), (365.5, 4), (12.34, 1)],
        ):
            values = [value for value, count in histogram for _n in range(count)]
            self.env.cr.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x)"
                "  FROM unnest(%s::numeric[]) x",
                [values],
            )
            self.assertEqual(_median(histogram), self.env.cr.fetchone()[0])

    def test_batch_write_with_commands(self):
        """An import or a server action: one write of many opportunities,
        with x2many commands beside the stage."""
        tag = self.env["crm.tag"].create({"name": "Import"})
        with freeze_time("2026-05-04 09:00:00"):
            self.leads.with_user(self.user_salesman).write(
                {"stage_id": self.stages[6].id, "tag_ids": [Command.link(tag.id)]}
            )
        self.assertExact()

    def test_reads_the_rows_when_the_sums_cannot_answer(self):
        """A closed period, a salesperson's own opportunities, a grouping by
        month: read from the rows."""
        for report, domain, groupby in (
            (self.Report, [("date_enter", "<", "2026-04-01 00:00:00")], []),
            (self.Report, [("user_id", "=", self.user_salesman.id)], ["stage_id"]),
            (self.Report, [], ["date_enter:month"]),
            (
                self.Report.with_user(self.user_salesman),
                [],
                ["stage_id"],
            ),
        ):
            with self.subTest(
                domain=domain, groupby=groupby, user=report.env.user.login
            ):
                self.assertIsNone(
                    report._read_group_rollup(domain, [groupby], AGGREGATES, None)
                )

    def test_read_from_the_sums_turns_jit_off(self):
        """The read from the sums is estimated past PostgreSQL's JIT
        threshold at a million opportunities (the rows of the stages a
        filter leaves out) and runs in milliseconds: JIT is off for the
        read's transaction, set by the read's own statement."""
        domain = self._domains()[0]
        self.Report._read_group(domain, ["stage_id"], AGGREGATES)  # the caches
        self.env.cr.execute("SET LOCAL jit = on")
        self.Report._read_group(domain, ["stage_id"], AGGREGATES)
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone(), ("off",))
        # the rows' read (a salesperson's own, a closed period) leaves it
        self.env.cr.execute("SET LOCAL jit = on")
        self.Report.with_context(sales_funnel_stage_rows=True)._read_group(
            domain, ["stage_id"], AGGREGATES
        )
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone(), ("on",))

    def test_functions_run_without_jit(self):
        """The triggers' statements are planned without the transition
        tables' sizes: with JIT on, a million history rows made PostgreSQL
        compile them for 0.35 s each (an opportunity's company changed)."""
        self.env.cr.execute(
            """SELECT proname, proconfig FROM pg_proc
                WHERE proname LIKE 'sales_funnel_pl_stage_rollup_%%'
                   OR proname = %s ORDER BY proname""",
            [rollup.FLAGS_FUNCTION],
        )
        configs = dict(self.env.cr.fetchall())
        self.assertEqual(len(configs), len(rollup.ROLLUP_TRIGGERS) + 1)
        self.assertEqual(
            configs.pop(rollup.FLAGS_FUNCTION),
            ["jit=off", "plan_cache_mode=force_custom_plan"],
        )
        self.assertEqual({tuple(config) for config in configs.values()}, {("jit=off",)})

    def test_compacting_keeps_the_sums(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM sales_funnel_stage_rollup")
        before = self.env.cr.fetchone()[0]
        self.env["sales.funnel.stage.rollup"]._compact()
        self.env.cr.execute("SELECT count(*) FROM sales_funnel_stage_rollup")
        self.assertLess(self.env.cr.fetchone()[0], before)
        self.assertExact()

    def test_rebuild_gives_the_same_sums(self):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead_stage_history SET entry_last = NULL, visit_repeated = NULL"
        )
        self.env.cr.execute("DELETE FROM sales_funnel_stage_rollup")
        self.env["crm.lead.stage.history"].invalidate_model()
        self.env["sales.funnel.stage.rollup"]._rebuild()
        self.assertExact()
