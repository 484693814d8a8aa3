# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.4.0: how far each opportunity got (``crm.lead.stage_reached_id``), the
funnel board's cohort reading, is filled from the stage history (see
hooks.py)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.sales_funnel_pl.hooks import _fill_stage_reached


def migrate(cr, version):
    _fill_stage_reached(api.Environment(cr, SUPERUSER_ID, {}))
