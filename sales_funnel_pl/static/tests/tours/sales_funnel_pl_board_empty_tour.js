/** @odoo-module **/

import {registry} from "@web/core/registry";
import {exactly} from "@sales_funnel_pl/../tests/tours/tour_utils";

const BAND = ".o_sales_funnel_board .o_sales_funnel_band";

/**
 * The list behind a figure of 0: empty, saying so in Polish, without the
 * sample records crm's views show in an empty view.
 */
function emptyList(title, text) {
    return {
        content: `An empty list saying "${title}", no sample record`,
        trigger: `.o_list_view .o_view_nocontent .o_view_nocontent_empty_folder:contains('${title}')`,
        run() {
            const view = document.querySelector(".o_list_view");
            const rows = view.querySelectorAll(".o_data_row").length;
            const sample = view.querySelectorAll(".o_view_sample_data").length;
            const help = view.querySelector(".o_view_nocontent").textContent;
            if (rows || sample || !help.includes(text)) {
                throw new Error(
                    `${rows} rows, ${sample} sample views, help: ${help.trim()}`
                );
            }
        },
    };
}

registry.category("web_tour.tours").add("sales_funnel_pl_board_empty", {
    steps: () => [
        {
            content: "Switch to the open opportunities now",
            trigger: ".o_sales_funnel_board_reading button[data-reading='now']",
            run: "click",
        },
        {
            content: "Open the empty band Firma (0)",
            trigger: `${BAND}.o_sales_funnel_band_empty[title='Firma']:has(.o_sales_funnel_band_count${exactly(0)})`,
            run: "click",
        },
        emptyList(
            "Brak szans sprzedaży",
            "Żadna szansa sprzedaży z wybranego okresu, zespołu i handlowca nie liczy się do tej wartości."
        ),
        {
            content: "The kanban view: empty too, no sample card",
            trigger: ".o_control_panel .o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "No card, the Polish help",
            trigger:
                ".o_kanban_view .o_view_nocontent .o_view_nocontent_empty_folder:contains('Brak szans sprzedaży')",
            run() {
                const view = document.querySelector(".o_kanban_view");
                const cards = view.querySelectorAll(
                    ".o_kanban_record:not(.o_kanban_ghost)"
                ).length;
                const sample = view.querySelectorAll(".o_view_sample_data").length;
                if (cards || sample) {
                    throw new Error(`${cards} cards, ${sample} sample views`);
                }
            },
        },
        {
            content: "Back to the board",
            trigger: ".breadcrumb-item.o_back_button:contains('Lejek sprzedaży')",
            run: "click",
        },
        {
            content: "No sales target: open the figure",
            trigger:
                ".o_sales_funnel_board_figure[data-figure='target']:contains('Realizacja celu: –')",
            run: "click",
        },
        emptyList(
            "Brak celów sprzedażowych",
            "Na wybrany okres, zespół i handlowca nie ustalono celu sprzedażowego."
        ),
        {
            content: "Back to the board",
            trigger: ".breadcrumb-item.o_back_button:contains('Lejek sprzedaży')",
            run: "click",
        },
        {
            content: "No overdue next action: open the figure",
            trigger: `.o_sales_funnel_board_figure[data-figure='overdue'] .fs-4${exactly(0)}`,
            run: "click",
        },
        emptyList(
            "Brak szans sprzedaży",
            "Żadna szansa sprzedaży z wybranego okresu, zespołu i handlowca nie liczy się do tej wartości."
        ),
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_pipeline_sample", {
    steps: () => [
        {
            content:
                "crm's own pipeline keeps its behaviour: with no opportunity, its sample cards",
            trigger: ".o_kanban_view .o_view_sample_data .o_kanban_record",
        },
    ],
});

// the digits of an amount, whatever its formatting ("200 000,00 zł")
function digits(text) {
    return text.replace(/\D/g, "");
}

let targetFigure = "";

registry.category("web_tour.tours").add("sales_funnel_pl_board_target_total", {
    steps: () => [
        {
            content: "Choose the last 12 months",
            trigger: ".o_sales_funnel_board_period",
            run() {
                this.anchor.value = "last_12_months";
                this.anchor.dispatchEvent(new Event("change"));
            },
        },
        {
            content: "The sales target of the last 12 months: two months of 100 000",
            trigger:
                ".o_sales_funnel_board_figure[data-figure='target'] .fs-4:contains(/^\\D*200\\D?000,00\\D*$/)",
            run() {
                targetFigure = this.anchor.textContent;
                this.anchor.click();
            },
        },
        {
            content: "The rows it sums: their total is the figure, to the grosz",
            trigger: ".o_list_view .o_list_footer .o_list_number span",
            run() {
                const total = this.anchor.textContent;
                if (!digits(targetFigure) || digits(total) !== digits(targetFigure)) {
                    throw new Error(`Figure ${targetFigure}, list total ${total}`);
                }
            },
        },
        {
            content: "Over several months, grouped by month (two here)",
            trigger: ".o_list_view .o_group_header ~ .o_group_header",
        },
    ],
});
