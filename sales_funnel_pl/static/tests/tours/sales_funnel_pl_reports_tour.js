/** @odoo-module **/

import {registry} from "@web/core/registry";
import {amount, exactly, openMenu} from "@sales_funnel_pl/../tests/tours/tour_utils";

function openReport(menuXmlid) {
    return [
        openMenu("crm.crm_menu_report"),
        {
            content: `Open ${menuXmlid}`,
            trigger: `.dropdown-item[data-menu-xmlid='${menuXmlid}']`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("sales_funnel_pl_reports", {
    url: "/odoo/crm",
    steps: () => [
        ...openReport("sales_funnel_pl.crm_lead_funnel_menu"),
        {
            content: "The funnel opens as a graph",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
        {
            content: "Switch to the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "Two open opportunities stand in Spotkanie",
            trigger: `.o_pivot tr:has(th${exactly("Spotkanie")}) td:eq(0)${exactly(2)}`,
        },
        {
            content: "Empty stages are shown too",
            trigger: `.o_pivot tr:has(th${exactly("Negocjacje 2")})`,
        },
        ...openReport("sales_funnel_pl.sales_funnel_forecast_report_menu"),
        {
            content: "The weighted forecast: 3% of 20 000 and of 10 000",
            trigger: `.o_pivot_view .o_pivot td${amount("900,00")}`,
        },
        {
            content: "The overdue opportunity (80% of 1 000) shows by default",
            trigger: `.o_pivot_view .o_pivot td${amount("800,00")}`,
        },
        {
            content: "Open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "crm's own forecast filter",
            trigger: ".o_filter_menu .dropdown-item:contains('Spodziewane zamknięcia')",
            run: "click",
        },
        {
            content:
                "Upcoming closings only: the overdue month is gone, the coming one stays",
            trigger: `.o_pivot_view .o_pivot:has(td${amount("900,00")}):not(:has(td${amount("800,00")}))`,
        },
        ...openReport("sales_funnel_pl.sales_funnel_stage_report_menu"),
        {
            content: "Two opportunities entered Nowy Prospekt",
            trigger: `.o_pivot tr:has(th${exactly("Nowy Prospekt")}) td:eq(0)${exactly(2)}`,
        },
        ...openReport("sales_funnel_pl.sales_funnel_velocity_menu"),
        {
            content: "Sales velocity per day, headed in Polish",
            trigger: ".o_list_renderer th:contains('Tempo / dzień')",
        },
        {
            content:
                "The manager's row: four open opportunities, nothing won yet, 0,00 a day",
            trigger: `.o_list_renderer tr.o_data_row:has(td${exactly("Anna Nowak")}):has(td[name='open_count']${exactly(4)}):has(td[name='velocity']${amount("0,00")})`,
        },
    ],
});
