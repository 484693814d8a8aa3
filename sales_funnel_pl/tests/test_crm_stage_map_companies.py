# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.tests import Form, tagged, users

from .common_companies import SalesFunnelCompaniesCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmStageMapCompanies(SalesFunnelCompaniesCommon):
    """The stages are shared by every company: mapping an old stage moves its
    opportunities in every company, lost ones too, whatever the company
    switcher of the sales manager shows, then archives it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the second: a stage only the second company's opportunities stand in
        cls.old_shared, cls.old_b = cls._create_old_stages(
            {"Old Proposition": 3, "Old Qualification": 4}
        )
        with freeze_time("2026-03-02 09:00:00"):
            in_a = cls._create_opportunities(2, cls.old_shared)
            in_b = cls._create_opportunities_b(3, cls.old_shared)
            only_b = cls._create_opportunities_b(1, cls.old_b)
            in_a[1].action_set_lost()
            in_b[2].action_set_lost()
        # read by the test as they are, whoever runs the wizard
        Lead = cls.env["crm.lead"].with_context(active_test=False)
        cls.in_a, cls.in_b, cls.only_b = (
            Lead.browse(leads.ids) for leads in (in_a, in_b, only_b)
        )

    @classmethod
    def _create_opportunities_b(cls, count, stage):
        return cls._create_opportunities(
            count,
            stage,
            user=cls.user_salesman_b,
            user_id=cls.user_salesman_b.id,
            team_id=cls.team_b.id,
            company_id=cls.company_b.id,
        )

    def _map(self, targets):
        """Map ``targets`` (old stage: funnel stage) in the wizard opened with
        the company switcher showing the first company only."""
        with Form(self._env_switcher_a()["crm.stage.map"]) as form:
            counts = {}
            for index in range(len(form.line_ids)):
                with form.line_ids.edit(index) as line:
                    if line.source_stage_id in targets:
                        counts[line.source_stage_id] = line.lead_count
                        line.target_stage_id = targets[line.source_stage_id]
        return counts, form.record.action_apply()

    def _assert_mapped(self, user):
        leads = self.in_a | self.in_b | self.only_b
        self.assertEqual(
            [lead.stage_id for lead in leads],
            [self.stage_meeting] * 5 + [self.stages[6]],
        )
        # lost ones stay lost, at 0%, in the funnel stage
        self.assertEqual(leads.mapped("active"), [True, False, True, True, False, True])
        self.assertEqual(leads.mapped("probability"), [3, 0, 3, 3, 0, 15])
        self.assertEqual(leads.mapped("company_id"), self.company | self.company_b)
        self.assertEqual(
            [lead.team_id for lead in leads],
            [self.team] * 2 + [self.team_b] * 4,
        )
        # the moves are the manager's, recorded as a mapping, in each company
        rows = leads.stage_history_ids.filtered(lambda row: row.change_type == "map")
        self.assertEqual(rows.lead_id, leads)
        self.assertEqual(rows.user_id, user)
        self.assertEqual(
            {row.lead_id: row.previous_stage_id for row in rows},
            {
                lead: self.old_b if lead == self.only_b else self.old_shared
                for lead in leads
            },
        )
        self.assertFalse(self.old_shared.active)
        self.assertFalse(self.old_b.active)

    @users("sfp_manager")
    def test_map_moves_every_company(self):
        counts, action = self._map(
            {self.old_shared: self.stage_meeting, self.old_b: self.stages[6]}
        )
        self.assertEqual(counts, {self.old_shared: 5, self.old_b: 1})
        self.assertEqual(
            action["params"]["message"], "6 opportunities moved, 2 old stages archived."
        )
        self._assert_mapped(self.user_manager)

    @users("sfp_manager_a")
    def test_map_by_manager_of_one_company(self):
        """A manager who cannot open the second company still maps the shared
        stages: its opportunities would otherwise stay in an archived stage."""
        counts, action = self._map(
            {self.old_shared: self.stage_meeting, self.old_b: self.stages[6]}
        )
        self.assertEqual(counts, {self.old_shared: 5, self.old_b: 1})
        self.assertEqual(
            action["params"]["message"], "6 opportunities moved, 2 old stages archived."
        )
        self._assert_mapped(self.user_manager_a)
        # and still cannot read them
        self.assertFalse(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("id", "in", self.in_b.ids)])
        )

    @users("sfp_manager")
    def test_mapping_keeps_stage_date_and_workers(self):
        """A mapping is a migration, not a sale: the stage date and the people
        who worked on the opportunity stay as they were."""
        leads = self.in_a | self.in_b
        self.assertEqual(set(leads.mapped("date_stage")), {date(2026, 3, 2)})
        workers = [lead.process_user_ids for lead in leads]
        self.assertEqual(
            workers,
            [self.user_salesman] * 2 + [self.user_salesman_b] * 3,
        )
        with freeze_time("2026-03-20 10:00:00"):
            self._map({self.old_shared: self.stage_meeting})
        self.assertEqual(set(leads.mapped("stage_id")), {self.stage_meeting})
        self.assertEqual(set(leads.mapped("date_stage")), {date(2026, 3, 2)})
        self.assertEqual([lead.process_user_ids for lead in leads], workers)
