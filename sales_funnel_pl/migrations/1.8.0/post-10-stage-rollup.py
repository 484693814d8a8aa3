# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.8.0: "Analiza etapów" reads its sums (``sales.funnel.stage.rollup``),
kept by the database with the history's rows. The rows of the releases
before get their marks (last entry, entered again, won), batch by batch of
opportunities with the progress logged, then the sums are made from them
(``_rebuild``); every row stays as it was otherwise."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["sales.funnel.stage.rollup"]._rebuild()
