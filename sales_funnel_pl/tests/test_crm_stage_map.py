# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmStageMap(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.old_new, cls.old_proposal, cls.old_empty = cls._create_old_stages(
            {"Old New": 1, "Old Proposition": 3, "Old Empty": 5}
        )
        cls.in_new = cls._create_opportunities(5, cls.old_new)
        cls.in_proposal = cls._create_opportunities(3, cls.old_proposal)
        cls.in_proposal[0].action_set_lost()

    def _count(self):
        return self.env["crm.lead"].with_context(active_test=False).search_count([])

    @users("sfp_manager")
    def test_map_stages(self):
        count_before = self._count()
        with Form(self.env["crm.stage.map"]) as form:
            sources = [
                form.line_ids.edit(index).source_stage_id
                for index in range(len(form.line_ids))
            ]
            self.assertIn(self.old_new, sources)
            self.assertIn(self.old_proposal, sources)
            self.assertNotIn(self.old_empty, sources)
            self.assertFalse(set(sources) & set(self.stages))
            for index, source in enumerate(sources):
                with form.line_ids.edit(index) as line:
                    if source == self.old_new:
                        self.assertEqual(line.lead_count, 5)
                        line.target_stage_id = self.stage_meeting
                    elif source == self.old_proposal:
                        self.assertEqual(line.lead_count, 3)
                        line.target_stage_id = self.stages[6]
        action = form.record.action_apply()
        self.assertEqual(
            action["params"]["message"], "8 opportunities moved, 2 old stages archived."
        )

        self.assertEqual(self._count(), count_before)
        self.assertEqual(set(self.in_new.mapped("stage_id")), {self.stage_meeting})
        self.assertEqual(set(self.in_new.mapped("probability")), {3})
        self.assertEqual(set(self.in_proposal.mapped("stage_id")), {self.stages[6]})
        self.assertEqual(self.in_proposal.mapped("probability"), [0, 15, 15])
        self.assertFalse(self.in_proposal[0].active)
        self.assertFalse(self.old_new.active)
        self.assertFalse(self.old_proposal.active)
        self.assertTrue(self.old_empty.active)

    @users("sfp_manager")
    def test_map_nothing_chosen(self):
        wizard = Form(self.env["crm.stage.map"]).save()
        with self.assertRaises(UserError) as error:
            wizard.action_apply()
        self.assertEqual(
            str(error.exception), "Choose a funnel stage for at least one old stage."
        )
        self.assertTrue(self.old_new.active)
        self.assertEqual(set(self.in_new.mapped("stage_id")), {self.old_new})

    @users("sfp_salesman")
    def test_salesman_cannot_map(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage.map"].create({})
