# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sales_funnel_after_sale_days = fields.Integer(
        string="Post-sale Next Action after (days)",
        config_parameter="sales_funnel_pl.after_sale_days",
        default=30,
        help="When an opportunity is won, its salesperson gets a post-sale "
        '"Next Action" activity this many days later.',
    )
