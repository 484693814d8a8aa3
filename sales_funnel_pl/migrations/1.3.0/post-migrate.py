"""1.3.0: forecast snapshots. The past months' forecasts are rebuilt from
the stage history, as on a new install (see hooks.py)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.sales_funnel_pl.hooks import _rebuild_forecast_snapshots


def migrate(cr, version):
    _rebuild_forecast_snapshots(api.Environment(cr, SUPERUSER_ID, {}))
