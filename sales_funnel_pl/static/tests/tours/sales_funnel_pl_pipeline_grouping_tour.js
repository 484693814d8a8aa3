/** @odoo-module **/

import {registry} from "@web/core/registry";

/** The columns of the pipeline: how many, how many open. */
function columns() {
    const groups = [
        ...document.querySelectorAll(".o_opportunity_kanban .o_kanban_group"),
    ];
    const open = groups.filter((group) => !group.classList.contains("o_column_folded"));
    const titles = groups.map((group) => group.textContent.trim().slice(0, 30));
    return {count: groups.length, open: open.length, titles};
}

registry.category("web_tour.tours").add("sales_funnel_pl_pipeline_grouping", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Grouped by stage: the 17 funnel stages, all open",
            trigger: ".o_opportunity_kanban .o_kanban_group:nth-child(17)",
            run() {
                const {count, open} = columns();
                if (count !== 17 || open !== 17) {
                    throw new Error(`${count} stage columns, ${open} open`);
                }
            },
        },
        {
            content: "Leave My Pipeline: every salesperson's opportunities",
            trigger: ".o_searchview_facet .o_facet_remove",
            run: "click",
        },
        {
            content: "No filter left",
            trigger: ".o_searchview:not(:has(.o_searchview_facet))",
        },
        {
            content: "Open the search options",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Group by salesperson",
            trigger: ".o_group_by_menu .o_menu_item:contains(/^\\s*Sprzedawca\\s*$/)",
            run: "click",
        },
        {
            content: "12 salespeople: Odoo opens the first 10 and folds the others",
            trigger:
                ".o_opportunity_kanban:has(.o_kanban_group:first-child .o_column_title:contains('Anna Nowak')) .o_kanban_group:nth-child(12)",
            run() {
                const {count, open, titles} = columns();
                if (count !== 12 || open !== 10) {
                    throw new Error(
                        `${count} salesperson columns, ${open} open: ${titles.join(" | ")}`
                    );
                }
            },
        },
        {
            content: "Back to the stages",
            trigger:
                ".o_group_by_menu .o_menu_item.selected:contains(/^\\s*Sprzedawca\\s*$/)",
            run: "click",
        },
        {
            content: "Grouped by stage again: every stage open",
            trigger:
                ".o_opportunity_kanban:has(.o_kanban_group:first-child .o_column_title:contains('Nowy Prospekt')) .o_kanban_group:nth-child(17)",
            run() {
                const {count, open} = columns();
                if (count !== 17 || open !== 17) {
                    throw new Error(`${count} stage columns, ${open} open`);
                }
            },
        },
    ],
});
