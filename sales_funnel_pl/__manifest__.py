# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Sales Funnel PL",
    "summary": "Polish 17-stage sales funnel for CRM: stage probabilities and history, "
    "next actions and reminders, reassignment, a funnel board, forecast snapshots "
    "and targets, forecast vs. won, stage and velocity reports",
    "version": "1.8.5",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "Sales Funnel PL contributors",
    "website": "https://github.com/sales-funnel-pl/sales_funnel_pl",
    "development_status": "Beta",
    "depends": ["crm"],
    "data": [
        "security/ir.model.access.csv",
        "security/crm_lead_stage_history_security.xml",
        "security/sales_funnel_forecast_security.xml",
        "data/crm_stage_data.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_templates_email_layouts.xml",
        "views/crm_stage_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_lead_stage_history_views.xml",
        "views/res_config_settings_views.xml",
        "wizard/crm_stage_map_views.xml",
        "wizard/crm_lead_reassign_views.xml",
        "wizard/crm_stage_tuning_views.xml",
        "views/crm_menu_views.xml",
        "report/sales_funnel_report_views.xml",
        "report/sales_funnel_board_views.xml",
        "report/sales_funnel_forecast_won_report_views.xml",
        "report/sales_funnel_change_report_views.xml",
        "views/sales_funnel_forecast_snapshot_views.xml",
        "views/sales_funnel_target_views.xml",
        "wizard/sales_funnel_target_copy_views.xml",
    ],
    "demo": [
        "demo/crm_stage_demo.xml",
        "demo/res_partner_demo.xml",
        "demo/crm_lead_demo.xml",
        "demo/crm_lead_history_demo.xml",
        "demo/sales_funnel_target_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "sales_funnel_pl/static/src/**/*",
            ("remove", "sales_funnel_pl/static/src/views/sales_funnel_graph/**"),
        ],
        # Odoo loads its graph view lazily, with the first graph shown
        "web.assets_backend_lazy": [
            "sales_funnel_pl/static/src/views/sales_funnel_graph/**",
        ],
        "web.assets_tests": [
            "sales_funnel_pl/static/tests/tours/*.js",
        ],
    },
    "images": ["static/description/pipeline.png"],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "application": False,
    "installable": True,
}
