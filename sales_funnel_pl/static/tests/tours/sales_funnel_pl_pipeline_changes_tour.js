/** @odoo-module **/

import {registry} from "@web/core/registry";
import {openMenu} from "@sales_funnel_pl/../tests/tours/tour_utils";
/* global Chart */

// the waterfall's colours (sales_funnel_waterfall_view.js)
const TOTAL = "#4EA7F2";
const UP = "#3DAA5C";
const DOWN = "#E0534A";

/**
 * The chart drawn on the graph view's canvas, once drawn (the canvas comes
 * first).
 */
async function drawnChart() {
    for (let attempt = 0; attempt < 100; attempt++) {
        const canvas = document.querySelector(".o_graph_renderer canvas");
        const chart = canvas && Chart.getChart(canvas);
        if (chart) {
            return chart;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("No chart drawn on the graph view's canvas");
}

/**
 * A step checking the bars of the waterfall drawn on the canvas: each
 * [from, to] and colour, in their order.
 */
function checkBars(content, expected) {
    return {
        content,
        trigger: ".o_graph_view .o_graph_renderer canvas",
        async run() {
            const chart = await drawnChart();
            const [dataset] = chart.data.datasets;
            const bars = dataset.data.map((bar, index) => [
                ...bar.map((value) => Math.round(value * 100) / 100),
                dataset.backgroundColor[index],
            ]);
            const drawn = JSON.stringify(bars);
            if (drawn !== JSON.stringify(expected)) {
                throw new Error(
                    `The waterfall's bars are ${drawn}, not ${JSON.stringify(expected)}`
                );
            }
        },
    };
}

registry.category("web_tour.tours").add("sales_funnel_pl_pipeline_changes", {
    url: "/odoo/crm",
    steps: () => [
        openMenu("crm.crm_menu_report"),
        {
            content: "Open Zmiany w lejku",
            trigger:
                ".dropdown-item[data-menu-xmlid='sales_funnel_pl.sales_funnel_change_report_menu']",
            run: "click",
        },
        {
            content: "The period is asked first, from the 1st of last month to today",
            trigger: ".modal .o_field_widget[name='date_from']",
        },
        {
            content: "Show the changes",
            trigger: ".modal button[name='action_open']",
            run: "click",
        },
        // new: 600 + 8 000 + 150; Hala raised by 10 000 at 3%; Brama won at
        // 80%; Wiata lost at 3%; open at the end: Hala, 30 000 at 3%
        checkBars("Each change floats from where the ones before it ended", [
            [0, 8750, UP],
            [8750, 9050, UP],
            [9050, 1050, DOWN],
            [1050, 900, DOWN],
            [0, 900, TOTAL],
        ]),
        {
            content: "Group by salesperson",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Salesperson",
            trigger: ".o_group_by_menu .dropdown-item:contains('Sprzedawca')",
            run: "click",
        },
        {
            content:
                "Grouped otherwise, the bars are Odoo's own again (one colour, on zero)",
            trigger: ".o_graph_view .o_graph_renderer canvas",
            async run() {
                // the regrouped read may still be on its way (a loaded
                // machine): the chart drawn after it, within 10 s
                for (let attempt = 0; attempt < 100; attempt++) {
                    const chart = await drawnChart();
                    const waterfall = chart.data.datasets.some((dataset) =>
                        dataset.data.some((value) => Array.isArray(value))
                    );
                    if (!waterfall) {
                        return;
                    }
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
                throw new Error("A waterfall drawn for another grouping");
            },
        },
    ],
});
