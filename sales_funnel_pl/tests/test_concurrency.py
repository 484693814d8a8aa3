# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import mute_logger


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestConcurrentStageChange(BaseCase):
    """Two transactions move the same opportunity at the same time, as two
    users or two workers would. They run on real, separate connections (the
    test runner's registry cursors all share one transaction), so the data
    is committed, and removed at the end."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = db_connect(get_db_name())
        with cls.db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            cls.stage_ids = [
                env.ref(f"sales_funnel_pl.stage_{number:02d}").id
                for number in (1, 4, 7)
            ]
            cls.lead_id = (
                env["crm.lead"]
                .create(
                    {
                        "name": "Współbieżna szansa",
                        "type": "opportunity",
                        "stage_id": cls.stage_ids[0],
                    }
                )
                .id
            )

    @classmethod
    def tearDownClass(cls):
        with cls.db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.lead"].browse(cls.lead_id).unlink()
        super().tearDownClass()

    def _history(self):
        with self.db.cursor() as cr:
            cr.execute(
                """SELECT stage_id, previous_stage_id, date_enter, date_leave
                     FROM crm_lead_stage_history WHERE lead_id = %s
                    ORDER BY date_enter, id""",
                [self.lead_id],
            )
            rows = cr.fetchall()
            cr.execute("SELECT stage_id FROM crm_lead WHERE id = %s", [self.lead_id])
            return rows, cr.fetchone()[0]

    def test_two_transactions_same_opportunity(self):
        new, meeting, presentation = self.stage_ids
        tries = []
        with self.db.cursor() as cr1, self.db.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {"tracking_disable": True})
            env2 = api.Environment(cr2, SUPERUSER_ID, {"tracking_disable": True})
            # the second transaction starts (and takes its snapshot) first
            lead2 = env2["crm.lead"].browse(self.lead_id)
            self.assertEqual(lead2.stage_id.id, new)
            # the first one moves the opportunity and commits
            env1["crm.lead"].browse(self.lead_id).write({"stage_id": meeting})
            cr1.commit()

            # the second one moves it too: its snapshot is stale, PostgreSQL
            # refuses to serialize it, and Odoo's request retry runs it again
            def attempt():
                tries.append(len(tries) + 1)
                env2["crm.lead"].browse(self.lead_id).write({"stage_id": presentation})

            with mute_logger("odoo.sql_db", "odoo.service.model"):
                retrying(attempt, env2)
            cr2.commit()
        self.assertEqual(tries, [1, 2])

        rows, final_stage = self._history()
        self.assertEqual(
            [(stage, previous) for stage, previous, _enter, _leave in rows],
            [(new, None), (meeting, new), (presentation, meeting)],
        )
        for row, next_row in zip(rows, rows[1:], strict=False):
            self.assertEqual(row[3], next_row[2])
        self.assertIsNone(rows[-1][3])
        self.assertEqual(final_stage, presentation)
