# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import SQL

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadStageHistory(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_other = cls._create_user(
            "sfp_other", "Piotr Wiśniewski", email="piotr@example.com"
        )

    def _rows(self, lead):
        return lead.stage_history_ids.sorted(lambda row: (row.date_enter, row.id))

    @users("sfp_salesman")
    @freeze_time("2026-01-05 10:00:00")
    def test_create_row(self):
        lead = self._create_opportunities(1, self.stage_order, expected_revenue=25000)
        row = lead.stage_history_ids
        self.assertEqual(len(row), 1)
        self.assertRecordValues(
            row,
            [
                {
                    "stage_id": self.stage_order.id,
                    "previous_stage_id": False,
                    "change_type": "create",
                    "date_enter": datetime(2026, 1, 5, 10, 0),
                    "date_leave": False,
                    "date_stage": date(2026, 1, 5),
                    "duration_days": 0.0,
                    "user_id": self.user_salesman.id,
                    "salesperson_id": self.user_salesman.id,
                    "team_id": self.team.id,
                    "probability": 80.0,
                    "expected_revenue": 25000.0,
                    "prorated_revenue": 20000.0,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(lead.stage_history_count, 1)

    @users("sfp_salesman")
    def test_moves_dates_and_durations(self):
        with freeze_time("2026-01-05 10:00:00"):
            lead = self._create_opportunities(1, self.stage_new)
        with freeze_time("2026-01-07 22:00:00"):
            lead.write({"stage_id": self.stage_meeting.id})
            self.assertEqual(lead.date_stage, date(2026, 1, 7))
        with freeze_time("2026-01-08 04:00:00"):
            with Form(lead) as form:
                form.stage_id = self.stage_order
        rows = self._rows(lead)
        self.assertRecordValues(
            rows,
            [
                {
                    "stage_id": self.stage_new.id,
                    "previous_stage_id": False,
                    "change_type": "create",
                    "date_enter": datetime(2026, 1, 5, 10),
                    "date_leave": datetime(2026, 1, 7, 22),
                    "duration_days": 2.0,
                    "date_stage": date(2026, 1, 5),
                    "probability": 0.0,
                },
                {
                    "stage_id": self.stage_meeting.id,
                    "previous_stage_id": self.stage_new.id,
                    "change_type": "stage",
                    "date_enter": datetime(2026, 1, 7, 22),
                    "date_leave": datetime(2026, 1, 8, 4),
                    "duration_days": 1.0,
                    "date_stage": date(2026, 1, 7),
                    "probability": 3.0,
                },
                {
                    "stage_id": self.stage_order.id,
                    "previous_stage_id": self.stage_meeting.id,
                    "change_type": "stage",
                    "date_enter": datetime(2026, 1, 8, 4),
                    "date_leave": False,
                    "duration_days": 0.0,
                    "date_stage": date(2026, 1, 8),
                    "probability": 80.0,
                },
            ],
        )
        self.assertEqual(lead.process_user_ids, self.user_salesman)

    @users("sfp_salesman")
    def test_skipped_stages_recorded(self):
        lead = self._create_opportunities(1, self.stage_new)
        lead.write({"stage_id": self.stage_meeting.id})  # skips stages 2 and 3
        self.stages[4].sudo().active = False  # archived: never skipped
        lead.write({"stage_id": self.stages[6].id})  # skips 6 only
        lead.write({"stage_id": self.stages[5].id})  # back: skips nothing
        lead.action_set_won()  # skips 7 to 16
        rows = self._rows(lead)
        self.assertEqual(
            [(row.stage_id.name, row.skipped_stage_ids.mapped("name")) for row in rows],
            [
                ("New Prospect", []),
                ("Meeting", ["Need Information", "First Contact"]),
                ("Project Presentation", ["Project Development"]),
                ("Project Development", []),
                ("Payment Received", [stage.name for stage in self.stages[6:16]]),
            ],
        )

    @users("sfp_manager")
    def test_skipped_stages_as_the_funnel_stands_now(self):
        """A stage moved and an opportunity moved in the same transaction
        (an import, a script): the move's skipped stages follow the funnel as
        it stands, with the stage's new place."""
        lead = self._create_opportunities(1, self.stage_new)
        self.stages[2].sequence = 100  # First Contact goes last
        lead.write({"stage_id": self.stage_meeting.id})
        self.assertEqual(
            self._rows(lead)[-1].skipped_stage_ids.mapped("name"), ["Need Information"]
        )

    @users("sfp_salesman")
    def test_won_lost_restore_rows(self):
        with freeze_time("2026-02-02 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
        with freeze_time("2026-02-03 09:00:00"):
            lead.action_set_won()
            self.assertEqual(lead.date_process_end, date(2026, 2, 3))
            self.assertEqual(lead.process_end_user_id, self.user_salesman)
        with freeze_time("2026-02-04 09:00:00"):
            lead.write({"stage_id": self.stages[15].id})
            self.assertFalse(lead.date_process_end)
        with freeze_time("2026-02-05 09:00:00"):
            lead.action_set_lost()
            self.assertEqual(lead.date_process_end, date(2026, 2, 5))
        with freeze_time("2026-02-06 09:00:00"):
            getattr(lead, compat.RESTORE_METHOD)()  # the Restore button
            self.assertFalse(lead.date_process_end)
            self.assertFalse(lead.process_end_user_id)
        rows = self._rows(lead)
        self.assertEqual(
            [
                (row.change_type, row.stage_id.name, row.probability, row.duration_days)
                for row in rows
            ],
            [
                ("create", "Order", 80.0, 1.0),
                ("won", "Payment Received", 100.0, 1.0),
                ("stage", "Invoice", 95.0, 1.0),
                ("lost", "Invoice", 0.0, 1.0),
                ("restore", "Invoice", 95.0, 0.0),
            ],
        )
        self.assertEqual(lead.probability, 95)

    @users("sfp_salesman")
    def test_batch_history_constant_queries(self):
        small = self._create_opportunities(10, self.stage_new)
        medium = self._create_opportunities(100, self.stage_new)
        large = self._create_opportunities(200, self.stage_new)
        self.env.flush_all()
        counts = []
        # the first round warms the caches, the second one is counted
        for stage in (self.stage_meeting, self.stage_order):
            for leads in (small, medium, large):
                self.env.invalidate_all()
                leads.mapped("stage_id")
                before = self.cr.sql_log_count
                leads.write({"stage_id": stage.id})
                leads.flush_recordset()
                counts.append(self.cr.sql_log_count - before)
        # the same number whatever the size (7 on 18.0, 5 on 19.0, whose ORM
        # reads and writes less); Odoo itself updates crm_lead 100 rows per
        # query, hence one more for 200 opportunities
        expected = [5, 5, 6] if compat.ODOO_19 else [7, 7, 8]
        self.assertEqual(counts[3:], expected, counts)
        history = self.env["crm.lead.stage.history"].search(
            [("lead_id", "in", large.ids)]
        )
        self.assertEqual(len(history), 600)
        self.assertEqual(
            len(history.filtered(lambda row: row.stage_id == self.stage_order)), 200
        )

    @users("sfp_salesman")
    def test_date_stage_backdate_and_bad_dates(self):
        with freeze_time("2026-03-10 12:00:00"):
            lead = self._create_opportunities(1, self.stage_new)
            self.assertEqual(lead.date_process_start, date(2026, 3, 10))
        with freeze_time("2026-03-20 12:00:00"):
            lead.write({"stage_id": self.stage_meeting.id})
            lead.date_stage = date(2026, 3, 15)
            self.assertEqual(self._rows(lead)[-1].date_stage, date(2026, 3, 15))
            with self.assertRaises(ValidationError) as error:
                lead.date_stage = date(2026, 3, 21)
            self.assertEqual(
                str(error.exception),
                "The stage date of Szansa 0 cannot be in the future.",
            )
            with self.assertRaises(ValidationError) as error:
                lead.date_stage = date(2026, 3, 9)
            self.assertEqual(
                str(error.exception),
                "The stage date of Szansa 0 cannot be before the start of its "
                "sales process (2026-03-10).",
            )
            with self.assertRaises(ValidationError) as error:
                lead.write({"expected_revenue": -1})
            self.assertEqual(
                str(error.exception),
                "The expected revenue of Szansa 0 cannot be negative.",
            )
            with self.assertRaises(ValidationError) as error:
                lead.write({"probability": 101})
            self.assertEqual(
                str(error.exception),
                "The probability of Szansa 0 must be between 0% and 100%.",
            )
            self.assertEqual(lead.probability, 3)

    def test_access_rights(self):
        mine = self._create_opportunities(1, self.stage_new)
        theirs = self._create_opportunities(
            1, self.stage_new, user=self.user_manager, user_id=self.user_other.id
        )
        History = self.env["crm.lead.stage.history"].with_user(self.user_salesman)
        self.assertEqual(
            History.search([("lead_id", "in", (mine | theirs).ids)]).lead_id, mine
        )
        mine.action_set_lost()
        self.assertEqual(len(History.search([("lead_id", "=", mine.id)])), 2)
        row = History.search([("lead_id", "=", mine.id)], limit=1)
        with self.assertRaises(AccessError):
            row.write({"date_stage": date(2026, 1, 1)})
        with self.assertRaises(AccessError):
            History.create({"lead_id": mine.id, "date_enter": datetime(2026, 1, 1)})
        with self.assertRaises(UserError):
            row.unlink()

        manager_row = row.with_user(self.user_manager)
        start = mine.date_process_start
        manager_row.date_stage = start
        self.assertEqual(manager_row.date_stage, start)
        with self.assertRaises(AccessError) as error:
            manager_row.write({"probability": 50})
        self.assertEqual(
            str(error.exception),
            "Only the stage date of a stage history row can be changed.",
        )
        with self.assertRaises(UserError):
            manager_row.unlink()
        # the rows go with their opportunity
        mine.with_user(self.user_manager).unlink()
        self.assertFalse(History.sudo().search([("lead_id", "=", mine.id)]))

    def test_multi_company(self):
        company_2 = self.env["res.company"].create({"name": "Druga Firma"})
        self.user_salesman.write({"company_ids": [(4, company_2.id)]})
        lead_1 = self._create_opportunities(1, self.stage_new)
        lead_2 = self.env["crm.lead"].create(
            {
                "name": "Szansa w drugiej firmie",
                "type": "opportunity",
                "company_id": company_2.id,
                "stage_id": self.stage_new.id,
                "user_id": self.user_salesman.id,
            }
        )
        self.assertEqual(lead_2.stage_history_ids.company_id, company_2)
        History = self.env["crm.lead.stage.history"].with_user(self.user_salesman)
        self.assertEqual(
            History.with_context(allowed_company_ids=[self.company.id])
            .search([("lead_id", "in", (lead_1 | lead_2).ids)])
            .lead_id,
            lead_1,
        )

    def test_rows_of_an_opportunity_found_through_an_index(self):
        """Every table of the addon's that refers to opportunities finds an
        opportunity's rows through an index: what deleting one (the
        cascade), merging it or changing its company reads. Without one,
        each of them reads the whole table for each opportunity (the
        skipped stages had none: 2.1 s to delete 100 opportunities at
        100,000)."""
        references = set()
        for model in self.env.registry.values():
            if model._abstract or model._transient or not model._auto:
                continue
            for field in model._fields.values():
                if (
                    field._module != "sales_funnel_pl"
                    or not field.store
                    or field.type not in ("many2one", "many2many")
                ):
                    continue
                if field.type == "many2one" and field.comodel_name == "crm.lead":
                    references.add((model._table, field.name))
                elif field.type == "many2many" and model._name == "crm.lead":
                    references.add((field.relation, field.column1))
                elif field.type == "many2many" and field.comodel_name == "crm.lead":
                    references.add((field.relation, field.column2))
        self.assertEqual(
            sorted(references),
            [
                ("crm_lead", "origin_lead_id"),
                ("crm_lead_process_user_rel", "lead_id"),
                ("crm_lead_stage_history", "lead_id"),
                ("crm_lead_stage_history_skip", "lead_id"),
                ("crm_lead_value_change", "lead_id"),
            ],
        )
        lead = self._create_opportunities(1, self.stage_order)
        self.env.flush_all()
        cr = self.env.cr
        # whatever the size of the tables here: a plan that can use an
        # index does, once sequential scans cost more than any other plan
        cr.execute("SET LOCAL enable_seqscan = off")
        scanned = []
        for table, column in sorted(references):
            cr.execute(
                SQL(
                    "EXPLAIN SELECT 1 FROM %s WHERE %s = %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    lead.id,
                )
            )
            plan = "\n".join(row[0] for row in cr.fetchall())
            if "Seq Scan" in plan:
                scanned.append(table)
        cr.execute("SET LOCAL enable_seqscan = on")
        self.assertEqual(scanned, [])

    def test_indexes_by_opportunity(self):
        """An opportunity's rows are found through one index in their order
        (lead, date entered, id), also on a database whose history Odoo
        indexed by lead alone (up to 1.7.0): that index goes, a write keeps
        one of them up to date, not both."""
        cr = self.env.cr
        cr.execute(
            "CREATE INDEX IF NOT EXISTS crm_lead_stage_history__lead_id_index"
            " ON crm_lead_stage_history (lead_id)"
        )
        self.env["crm.lead.stage.history"].init()
        cr.execute(
            """SELECT indexname, indexdef FROM pg_indexes
                WHERE tablename = 'crm_lead_stage_history'
                  AND indexdef LIKE '%(lead_id%'
                ORDER BY indexname"""
        )
        self.assertEqual(
            cr.fetchall(),
            [
                (
                    "crm_lead_stage_history_lead_order_idx",
                    "CREATE INDEX crm_lead_stage_history_lead_order_idx ON "
                    "public.crm_lead_stage_history "
                    "USING btree (lead_id, date_enter, id)",
                ),
                (
                    "crm_lead_stage_history_open_idx",
                    "CREATE INDEX crm_lead_stage_history_open_idx ON "
                    "public.crm_lead_stage_history USING btree (lead_id) "
                    "WHERE (date_leave IS NULL)",
                ),
            ],
        )
