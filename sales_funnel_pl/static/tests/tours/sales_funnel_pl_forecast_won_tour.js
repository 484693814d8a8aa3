/** @odoo-module **/

import {registry} from "@web/core/registry";
import {amount, exactly} from "@sales_funnel_pl/../tests/tours/tour_utils";

registry.category("web_tour.tours").add("sales_funnel_pl_forecast_won", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Open CRM › Raportowanie",
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "Open Prognoza a wykonanie",
            trigger:
                ".dropdown-item[data-menu-xmlid='sales_funnel_pl.sales_funnel_forecast_won_report_menu']:contains('Prognoza a wykonanie')",
            run: "click",
        },
        {
            content: "The pivot is headed in Polish",
            trigger: ".o_pivot_view .o_pivot th:contains('Trafność prognozy (%)')",
        },
        {
            content: "The month's forecast saved on its first day: 80% of 1 000",
            trigger: `.o_pivot_view .o_pivot td${amount("800,00")}`,
        },
        {
            content: "Won in the month, the difference and the accuracy",
            trigger: `.o_pivot_view .o_pivot:has(td${amount("500,00")}):has(td${amount("-300,00")}):has(td${exactly("62,50")})`,
        },
        {
            content: "The target and its attainment",
            trigger: `.o_pivot_view .o_pivot:has(td${amount("625,00")}):has(td${exactly("80,00")})`,
        },
        {
            content: "Switch to the graph",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "Forecast, won and target drawn as lines",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
    ],
});
