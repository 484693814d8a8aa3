# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    sales_funnel_after_sale_days = fields.Integer(
        string="Post-sale Next Action after (days)",
        config_parameter="sales_funnel_pl.after_sale_days",
        default=30,
        help="When an opportunity is won, its salesperson gets a post-sale "
        '"Next Action" activity this many days later.',
    )
    sales_funnel_tuning_min_sample = fields.Integer(
        string="Funnel Tuning: Minimum Sample",
        config_parameter="sales_funnel_pl.tuning_min_sample",
        default=30,
        help='"Funnel Tuning" suggests a stage probability only where at least '
        "this many sales processes ended in the period entered the stage.",
    )
    sales_funnel_tuning_archive_skip_rate = fields.Integer(
        string="Funnel Tuning: Archive Suggestion from (%)",
        config_parameter="sales_funnel_pl.tuning_archive_skip_rate",
        default=80,
        help='"Funnel Tuning" suggests archiving a stage that at least this '
        "share of the won sales processes skipped.",
    )

    @api.constrains(
        "sales_funnel_tuning_min_sample", "sales_funnel_tuning_archive_skip_rate"
    )
    def _check_sales_funnel_tuning(self):
        for settings in self:
            if settings.sales_funnel_tuning_min_sample < 1:
                raise ValidationError(
                    self.env._("The minimum sample of the funnel tuning is at least 1.")
                )
            if not 0 < settings.sales_funnel_tuning_archive_skip_rate <= 100:
                raise ValidationError(
                    self.env._(
                        "The share of wins skipping a stage that suggests archiving "
                        "it is between 1% and 100%."
                    )
                )
