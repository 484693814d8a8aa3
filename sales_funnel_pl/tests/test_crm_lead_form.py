# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadForm(SalesFunnelCommon):
    """The opportunity form shows one time in a stage, counted from the stage
    dates: not crm's status-bar duration, counted from the tracked write."""

    def _form_arch(self):
        views = self.env["crm.lead"].get_views([(False, "form")])
        return etree.fromstring(views["views"]["form"]["arch"])

    @users("sfp_salesman")
    def test_status_bar_shows_no_duration(self):
        arch = self._form_arch()
        status_bars = arch.xpath("//header/field[@name='stage_id']")
        self.assertEqual(len(status_bars), 1)
        # crm's own widgets: statusbar_duration (18.0),
        # rotting_statusbar_duration (19.0)
        self.assertEqual(status_bars[0].get("widget"), "statusbar")
        # still moved by a click, folded stages kept aside, as in crm
        self.assertEqual(
            status_bars[0].get("options"), "{'clickable': '1', 'fold_field': 'fold'}"
        )
        # leads have no status bar, in crm as here
        self.assertIn("type == 'lead'", status_bars[0].get("invisible"))
        # the current stage's age is its stage date (not the history tab's)
        stage_dates = arch.xpath(
            "//sheet//field[@name='date_stage'][not(ancestor::field)]"
        )
        self.assertEqual(len(stage_dates), 1)

    @users("sfp_salesman")
    def test_history_tab_shows_days_of_left_stages_only(self):
        arch = self._form_arch()
        days = arch.xpath(
            "//field[@name='stage_history_ids']/list/field[@name='duration_days']"
        )
        self.assertEqual(len(days), 1)
        # the current stage is not over: no "0,00 days" beside a stage date
        # months old
        self.assertEqual(days[0].get("invisible"), "not date_leave")
