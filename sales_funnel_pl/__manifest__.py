{
    "name": "Sales Funnel PL",
    "summary": "17-stage Polish sales funnel for Odoo CRM: stage probabilities, "
    "stage descriptions and a stage mapping wizard",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "sales_funnel_pl",
    "website": "https://github.com/sales-funnel-pl/sales_funnel_pl",
    "development_status": "Beta",
    "maintainers": ["sales_funnel_pl"],
    "depends": ["crm"],
    "data": [
        "security/ir.model.access.csv",
        "data/crm_stage_data.xml",
        "views/crm_stage_views.xml",
        "wizard/crm_stage_map_wizard_views.xml",
        "views/crm_menu_views.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
        "demo/crm_lead_demo.xml",
    ],
    "assets": {
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
