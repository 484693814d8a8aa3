# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged, users
from odoo.tools import SQL

from ..models.crm_lead_value_change import VALUE_FIELDS, CrmLeadValueChange
from ..report.sql import lead_values_at_sql
from .common_companies import SalesFunnelCompaniesCommon

# the moment of the tests' writes (10:30 in Warsaw), and the values (closing
# date, revenue, probability) of the opportunities A and C as created
NOW = datetime(2026, 3, 10, 9, 30)
A = (date(2026, 3, 31), 20000.0, 3.0)
C = (date(2026, 3, 31), 8000.0, 80.0)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestValueChanges(SalesFunnelCompaniesCommon):
    """Every change of an opportunity's expected closing date, expected
    revenue and probability is recorded, one row per opportunity and write,
    with the three values before and after (``crm.lead.value.change``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_other = cls._create_other_salesperson()
        cls.user_manager_b = cls._create_user(
            "sfp_manager_b",
            "Olga Północna",
            "sales_team.group_sale_manager",
            email="olga.polnocna@example.com",
            company=cls.company_b,
        )
        north = {
            "user": cls.user_salesman_b,
            "user_id": cls.user_salesman_b.id,
            "team_id": cls.team_b.id,
            "company_id": cls.company_b.id,
        }
        # attribute: name, stage, revenue, closing date, who enters it for whom
        opportunities = {
            "lead_a": ("Hala A", cls.stage_meeting, 20000, date(2026, 3, 31), {}),
            "lead_b": ("Hala B", cls.stage_meeting, 15000, date(2026, 4, 15), {}),
            "lead_c": ("Hala C", cls.stage_order, 8000, date(2026, 3, 31), {}),
            "lead_other": (
                "Magazyn Zielińskiej",
                cls.stage_meeting,
                12000,
                date(2026, 5, 20),
                {"user": cls.user_manager, "user_id": cls.user_other.id},
            ),
            "lead_north": (
                "Hala Północ",
                cls.stage_meeting,
                30000,
                date(2026, 6, 30),
                north,
            ),
        }
        with freeze_time("2026-03-02 08:00:00"):
            for attribute, (*args, values) in opportunities.items():
                # entered by their salespeople, then read and written by the
                # test's user
                lead = cls._create_opportunity(*args, **values)
                setattr(cls, attribute, lead.with_env(cls.env))

    def _changes(self, leads):
        return (
            self.env["crm.lead.value.change"]
            .sudo()
            .search([("lead_id", "in", leads.ids)], order="date, id")
        )

    def _assert_changes(self, leads, expected):
        """The rows of ``leads``, in their order, are ``expected``: tuples of
        (opportunity, date, old values, new values[, writer]), the values
        being (closing date, revenue, probability); the writer is the
        salesperson unless told, the company the first one."""
        self.assertRecordValues(
            self._changes(leads),
            [
                {
                    "lead_id": lead.id,
                    "date": moment,
                    "user_id": (user[0] if user else self.user_salesman).id,
                    "company_id": self.company.id,
                    **{
                        f"{prefix}_{name}": value
                        for prefix, values in (("old", old), ("new", new))
                        for name, value in zip(VALUE_FIELDS, values, strict=True)
                    },
                }
                for lead, moment, old, new, *user in expected
            ],
        )

    # ------------------------------------------------------------
    # ROWS
    # ------------------------------------------------------------

    @users("sfp_salesman")
    def test_leads_record_nothing(self):
        """A lead's values are no pipeline's: its writes record nothing, its
        conversion neither (crm's assignment converts leads one at a time,
        and reading their values would make crm score them one by one); once
        an opportunity, its changes are recorded."""
        with freeze_time("2026-03-03 09:00:00"):
            lead = self.env["crm.lead"].create(
                {
                    "name": "Zapytanie z targów",
                    "type": "lead",
                    "user_id": self.user_salesman.id,
                    "expected_revenue": 5000,
                }
            )
            lead.write({"expected_revenue": 6000, "date_deadline": date(2026, 4, 30)})
            lead.convert_opportunity(lead.partner_id, user_ids=self.user_salesman.ids)
            self.assertEqual(lead.type, "opportunity")
            self.assertFalse(self._changes(lead))
        with freeze_time("2026-03-04 09:00:00"):
            probability = lead.probability
            lead.write({"expected_revenue": 7000})
        self._assert_changes(
            lead,
            [
                (
                    lead,
                    datetime(2026, 3, 4, 9, 0),
                    (date(2026, 4, 30), 6000, probability),
                    (date(2026, 4, 30), 7000, probability),
                )
            ],
        )

    def test_no_row_at_creation(self):
        """Creation records nothing: the values an opportunity was created
        with are its values at its creation."""
        self.assertFalse(self._changes(self.lead_a | self.lead_b | self.lead_north))

    @users("sfp_salesman")
    @freeze_time("2026-03-10 09:30:00")
    def test_single_write(self):
        """A salesperson (Warsaw) raises one opportunity's revenue: one row,
        the three values before and after, the unchanged ones too."""
        lead = self.lead_a.with_env(self.env)
        lead.write({"expected_revenue": 25000})
        self._assert_changes(
            self.lead_a,
            [(lead, NOW, A, (date(2026, 3, 31), 25000.0, 3.0))],
        )

    @users("sfp_salesman")
    @freeze_time("2026-03-10 09:30:00")
    def test_batch_write(self):
        """A batch moves the closing date of three: the one already due then
        gets no row, the two others one each, in one write."""
        leads = (self.lead_a | self.lead_b | self.lead_c).with_env(self.env)
        leads.write({"date_deadline": date(2026, 4, 15)})
        self._assert_changes(
            leads,
            [
                (self.lead_a, NOW, A, (date(2026, 4, 15), 20000.0, 3.0)),
                (self.lead_c, NOW, C, (date(2026, 4, 15), 8000.0, 80.0)),
            ],
        )

    @users("sfp_salesman")
    def test_no_row_for_unrelated_or_equal_write(self):
        """Writing another field, or the same values again, records nothing."""
        leads = (self.lead_a | self.lead_b).with_env(self.env)
        leads.write({"description": "Hala stalowa, 2 000 m²"})
        leads.write({"expected_revenue": 20000, "date_deadline": date(2026, 3, 31)})
        self.lead_b.with_env(self.env).write({"stage_id": self.stage_meeting.id})
        self.assertEqual(len(self._changes(leads)), 1)
        self.assertEqual(self._changes(leads).lead_id, self.lead_b)

    @users("sfp_salesman")
    def test_stage_moves_won_and_lost(self):
        """The probability a stage move sets, the one typed by hand, a win
        and a loss: each a row, dated as the stage history's move."""
        lead = self.lead_a.with_env(self.env)
        with freeze_time("2026-03-11 08:00:00"):
            lead.write({"stage_id": self.stage_order.id})
        with freeze_time("2026-03-12 08:00:00"):
            lead.write({"probability": 90})
        with freeze_time("2026-03-13 08:00:00"):
            lead.action_set_won()
        other = self.lead_b.with_env(self.env)
        with freeze_time("2026-03-14 08:00:00"):
            other.action_set_lost()
        # A's probability from one row to the next: its closing date and
        # revenue stay
        steps = [3.0, 80.0, 90.0, 100.0]
        self._assert_changes(
            self.lead_a | self.lead_b,
            [
                (lead, datetime(2026, 3, day, 8), (*A[:2], old), (*A[:2], new))
                for day, old, new in zip(
                    (11, 12, 13), steps[:-1], steps[1:], strict=True
                )
            ]
            + [
                (
                    other,
                    datetime(2026, 3, 14, 8),
                    (date(2026, 4, 15), 15000.0, 3.0),
                    (date(2026, 4, 15), 15000.0, 0.0),
                )
            ],
        )
        # the stage history's won and lost moves carry the same moments
        history = self.env["crm.lead.stage.history"].sudo()
        self.assertEqual(
            history.search(
                [
                    ("lead_id", "in", (self.lead_a | self.lead_b).ids),
                    ("change_type", "in", ("won", "lost")),
                ],
                order="date_enter",
            ).mapped(lambda row: (row.lead_id, row.change_type, row.date_enter)),
            [
                (self.lead_a, "won", datetime(2026, 3, 13, 8)),
                (self.lead_b, "lost", datetime(2026, 3, 14, 8)),
            ],
        )

    @users("sfp_salesman")
    @freeze_time("2026-03-10 09:30:00")
    def test_batch_with_x2many_commands(self):
        """An import or a server action: tags (a new one created once, one
        linked) with a revenue, on three opportunities: one tag created, a
        row for each whose revenue changed."""
        tag = self.env["crm.tag"].create({"name": "Przetarg"})
        leads = (self.lead_a | self.lead_b | self.lead_c).with_env(self.env)
        Tag = self.env["crm.tag"]
        tags_before = Tag.search_count([])
        leads.write(
            {
                "tag_ids": [Command.create({"name": "Hala"}), Command.link(tag.id)],
                "expected_revenue": 15000,
            }
        )
        self.assertEqual(Tag.search_count([]), tags_before + 1)
        self.assertEqual(len(leads.tag_ids), 2)
        self._assert_changes(
            leads,
            [
                (self.lead_a, NOW, A, (date(2026, 3, 31), 15000.0, 3.0)),
                (self.lead_c, NOW, C, (date(2026, 3, 31), 15000.0, 80.0)),
            ],
        )

    def test_two_time_zones(self):
        """Writers in Warsaw and in UTC: the rows are dated in UTC, the
        closing date is the date typed, whoever types it, whatever the
        hour."""
        with freeze_time("2026-03-31 22:30:00"):
            # 1 April, 00:30 in Warsaw; still 31 March in UTC
            self.lead_a.with_user(self.user_salesman).write(
                {"date_deadline": date(2026, 4, 30)}
            )
        with freeze_time("2026-03-31 23:00:00"):
            self.lead_b.with_user(self.user_salesman_utc).write(
                {"date_deadline": date(2026, 3, 31)}
            )
        self._assert_changes(
            self.lead_a | self.lead_b,
            [
                (
                    self.lead_a,
                    datetime(2026, 3, 31, 22, 30),
                    (date(2026, 3, 31), 20000.0, 3.0),
                    (date(2026, 4, 30), 20000.0, 3.0),
                ),
                (
                    self.lead_b,
                    datetime(2026, 3, 31, 23, 0),
                    (date(2026, 4, 15), 15000.0, 3.0),
                    (date(2026, 3, 31), 15000.0, 3.0),
                    self.user_salesman_utc,
                ),
            ],
        )

    def test_merge(self):
        """crm's merge writes the merged values on the opportunity it keeps
        (the first not empty among them, in its order of confidence):
        recorded as its write; the merged-away one goes with its rows."""
        head = self.lead_b
        with freeze_time("2026-03-09 09:30:00"):
            head.write({"expected_revenue": 0, "date_deadline": False})
            tail = self._create_opportunity(
                "Hala D", self.stage_meeting, 16000, date(2026, 5, 29)
            )
            tail.with_env(self.env).write({"expected_revenue": 17000})
        with freeze_time("2026-03-10 09:30:00"):
            merged = (head | tail).with_user(self.user_salesman).merge_opportunity()
        self.assertEqual(merged, head)
        self.assertFalse(tail.exists())
        self._assert_changes(
            head,
            [
                (
                    head,
                    datetime(2026, 3, 9, 9, 30),
                    (date(2026, 4, 15), 15000.0, 3.0),
                    (False, 0.0, 3.0),
                    self.env.user,
                ),
                (
                    head,
                    datetime(2026, 3, 10, 9, 30),
                    (False, 0.0, 3.0),
                    (date(2026, 5, 29), 17000.0, 3.0),
                ),
            ],
        )
        self.assertFalse(
            self.env["crm.lead.value.change"].sudo().search([("lead_id", "=", tail.id)])
        )

    def test_scoring_cron(self):
        """Outside the funnel, crm's nightly scoring moves a probability that
        followed the automated one: recorded as a change of its own, by
        whoever runs the scheduled action."""
        with freeze_time("2026-03-02 08:00:00"):
            lead = self._create_opportunity(
                "Serwis wózków",
                self.other_stages[0],
                9000,
                date(2026, 4, 30),
                user=self.user_salesman_utc,
                user_id=self.user_salesman_utc.id,
                team_id=self.team_other.id,
            ).with_env(self.env)
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE crm_lead SET probability = 12.5, automated_probability = 12.5
                WHERE id = %s""",
            [lead.id],
        )
        lead.invalidate_recordset()
        self.env["ir.config_parameter"].sudo().set_param(
            "crm.pls_start_date", "2000-01-01"
        )
        with freeze_time("2026-03-10 03:00:00"):
            self.env["crm.lead"]._cron_update_automated_probabilities()
        lead.invalidate_recordset()
        self.assertNotEqual(lead.probability, 12.5)
        self._assert_changes(
            lead,
            [
                (
                    lead,
                    datetime(2026, 3, 10, 3, 0),
                    (date(2026, 4, 30), 9000.0, 12.5),
                    (date(2026, 4, 30), 9000.0, lead.probability),
                    self.env.user,
                )
            ],
        )

    # ------------------------------------------------------------
    # QUERIES
    # ------------------------------------------------------------

    def _count(self, leads, vals):
        """The queries of ``leads.write(vals)`` as the salesperson, the
        record cache cold, flushed."""
        leads = leads.with_user(self.user_salesman)
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        leads.write(vals)
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_unrelated_write_costs_nothing(self):
        """A write of the description costs exactly what it costs without
        the recording (its check answering "nothing to record" from the
        field names alone)."""
        leads = self.lead_a | self.lead_b
        self._count(self.lead_c, {"description": "Hala"})
        # and nothing read for it: the values before are not even looked at
        read = []
        values = CrmLeadValueChange._values
        self.patch(
            CrmLeadValueChange,
            "_values",
            lambda model, records: read.append(records.ids) or values(model, records),
        )
        with_recording = self._count(leads, {"description": "Hala stalowa"})
        self.assertEqual(read, [])
        self._count(leads, {"expected_revenue": 30000})
        self.assertEqual(read, [leads.ids, leads.ids])
        self.patch(
            CrmLeadValueChange, "_watched", lambda _model, leads, _vals: leads.browse()
        )
        without = self._count(leads, {"description": "Hala magazynowa"})
        self.assertEqual(with_recording, without)
        self.assertEqual(len(self._changes(leads)), 2)

    def test_queries_constant(self):
        """Recording costs the same number of queries for 1 and for 50
        opportunities: a revenue, a closing date, a stage move."""
        with freeze_time("2026-03-02 08:00:00"):
            many = self._create_opportunities(50, self.stage_meeting)
            one = self._create_opportunities(1, self.stage_meeting)
            warm = self._create_opportunities(2, self.stage_meeting)
        for vals in (
            {"expected_revenue": 11000},
            {"date_deadline": date(2026, 5, 31)},
            {"stage_id": self.stage_order.id},
        ):
            self._count(warm, vals)
            self.assertEqual(self._count(one, vals), self._count(many, vals), vals)
        self.assertEqual(len(self._changes(many)), 150)
        self.assertEqual(len(self._changes(one)), 3)

    def test_recomputed_values_watched(self):
        """A write that changes the values only through Odoo's computation
        (the team or the salesperson: crm's scoring outside the funnel)
        watches the opportunities whose values are known, not a lead, not an
        opportunity whose values are still to be computed since its
        conversion in the same transaction; a write that cannot change them
        watches nothing."""
        Changes = self.env["crm.lead.value.change"]
        converted, lead = self.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "lead",
                    "team_id": self.team_other.id,
                    "stage_id": self.other_stages[0].id,
                }
                for name in ("Zapytanie przekształcone", "Zapytanie")
            ]
        )
        self.env.flush_all()
        known = self.lead_a | self.lead_b
        self.assertEqual(
            Changes._watched(known | lead, {"team_id": self.team.id}), known
        )
        self.assertFalse(Changes._watched(known, {"description": "Hala"}))
        converted.convert_opportunity(converted.partner_id)
        self.assertEqual(converted.type, "opportunity")
        self.assertEqual(
            Changes._watched(converted | known, {"user_id": self.user_salesman.id}),
            known,
        )
        self.env.flush_all()
        self.assertEqual(
            Changes._watched(converted | known, {"user_id": self.user_salesman.id}),
            converted | known,
        )

    def test_assignment_reads_nothing(self):
        """crm's lead assignment converts its leads and gives each to a
        salesperson one lead at a time, outside the funnel (crm's scoring
        computing their probability): the assignment is part of the
        conversion, which starts an opportunity's values, so the recording
        reads nothing for it (reading the values would make crm score each
        lead on its own, not the batch at once), costs exactly the queries
        it costs without the recording, and records nothing. At a frozen
        moment: crm stamps the conversion and the assignment with the clock's
        second, and a batch whose leads straddle two seconds costs a query
        more (its flush writes them in two statements), with or without the
        recording."""
        with freeze_time("2026-03-02 08:00:00"):
            leads = self.env["crm.lead"].create(
                [
                    {
                        "name": f"Zapytanie {i}",
                        "type": "lead",
                        "team_id": self.team_other.id,
                        "stage_id": self.other_stages[0].id,
                        "expected_revenue": 1000 * (i + 1),
                    }
                    for i in range(9)
                ]
            )

            def assign(leads):
                self.env.flush_all()
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                for lead in leads.with_user(self.user_manager):
                    lead.convert_opportunity(
                        lead.partner_id, user_ids=self.user_salesman_utc.ids
                    )
                self.env.flush_all()
                return self.env.cr.sql_log_count - before

            warm, first, second = leads[:1], leads[1:5], leads[5:]
            assign(warm)
            with_recording = assign(first)
            self.patch(
                CrmLeadValueChange,
                "_watched",
                lambda _model, leads, _vals: leads.browse(),
            )
            without = assign(second)
            self.assertEqual(with_recording, without)
            self.assertEqual(set(leads.mapped("type")), {"opportunity"})
            self.assertEqual(leads.user_id, self.user_salesman_utc)
            self.assertFalse(self._changes(leads))

    def test_stage_move_query_added_nothing(self):
        """A stage move's probability change is recorded in the stage
        history's statement: the same number of queries as without the
        recording."""
        with freeze_time("2026-03-02 08:00:00"):
            leads = self._create_opportunities(8, self.stage_meeting)
        warm, first, second = leads[:2], leads[2:5], leads[5:]
        self._count(warm, {"stage_id": self.stage_order.id})
        with_recording = self._count(first, {"stage_id": self.stage_order.id})
        self.patch(
            CrmLeadValueChange, "_watched", lambda _model, leads, _vals: leads.browse()
        )
        without = self._count(second, {"stage_id": self.stage_order.id})
        self.assertEqual(with_recording, without)
        self.assertEqual(len(self._changes(first)), 3)
        self.assertFalse(self._changes(second))

    # ------------------------------------------------------------
    # ACCESS
    # ------------------------------------------------------------

    def test_access(self):
        """Salespeople read the rows of the opportunities they read (own and
        unassigned), never create, change or delete one; a manager of the
        other company only reads none of them."""
        with freeze_time("2026-03-10 09:30:00"):
            (self.lead_a | self.lead_other).write({"expected_revenue": 1000})
            self.lead_north.write({"expected_revenue": 1000})
        Changes = self.env["crm.lead.value.change"]
        mine = Changes.with_user(self.user_salesman).search([])
        self.assertEqual(mine.lead_id, self.lead_a)
        other_company = Changes.with_user(self.user_manager_b).search([])
        self.assertEqual(other_company.lead_id, self.lead_north)
        both = Changes.with_user(self.user_manager).with_context(
            allowed_company_ids=(self.company | self.company_b).ids
        )
        self.assertEqual(
            both.search([]).lead_id, self.lead_a | self.lead_other | self.lead_north
        )
        row = mine.with_user(self.user_salesman)
        with self.assertRaises(AccessError):
            row.unlink()
        with self.assertRaises(AccessError):
            row.write({"new_expected_revenue": 5})
        with self.assertRaises(AccessError):
            Changes.with_user(self.user_salesman).create(
                {"lead_id": self.lead_a.id, "date": datetime(2026, 3, 1)}
            )
        with self.assertRaises(AccessError):
            Changes.with_user(self.user_manager).create(
                {"lead_id": self.lead_a.id, "date": datetime(2026, 3, 1)}
            )

    # ------------------------------------------------------------
    # THE RULE: values at a moment
    # ------------------------------------------------------------

    def test_values_at_a_moment(self):
        """An opportunity changed three times: its values at any moment are
        the old values of its first change after it, else today's."""
        lead = self.lead_a.with_user(self.user_salesman)
        with freeze_time("2026-03-05 10:00:00"):
            lead.write({"date_deadline": date(2026, 4, 30)})
        with freeze_time("2026-03-06 10:00:00"):
            lead.write({"expected_revenue": 26000, "probability": 10})
        with freeze_time("2026-03-07 10:00:00"):
            lead.write({"date_deadline": date(2026, 6, 30)})
        self.env.flush_all()

        def at(moment):
            self.env.cr.execute(
                SQL(
                    """SELECT v.date_deadline, v.expected_revenue::float,
                              v.probability, v.recorded
                         FROM crm_lead l CROSS JOIN LATERAL %s AS v
                        WHERE l.id = %s""",
                    lead_values_at_sql("l", SQL("%s::timestamp", moment)),
                    lead.id,
                )
            )
            return self.env.cr.fetchone()

        self.assertEqual(
            [
                at(moment)
                for moment in (
                    "2026-03-04 00:00:00",
                    "2026-03-05 10:00:00",
                    "2026-03-05 12:00:00",
                    "2026-03-06 23:00:00",
                    "2026-03-07 10:00:01",
                )
            ],
            [
                (date(2026, 3, 31), 20000.0, 3.0, True),
                # a change at the moment itself has happened by then
                (date(2026, 4, 30), 20000.0, 3.0, True),
                (date(2026, 4, 30), 20000.0, 3.0, True),
                (date(2026, 4, 30), 26000.0, 10.0, True),
                (date(2026, 6, 30), 26000.0, 10.0, False),
            ],
        )
