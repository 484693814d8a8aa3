"""1.3.0: forecast snapshots. The past months' forecasts are rebuilt from
the stage history, as on a new install (the snapshot model's own rebuild)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["sales.funnel.forecast.snapshot"]._rebuild_from_history(
        env["res.company"].search([])
    )
