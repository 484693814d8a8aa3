/** @odoo-module **/

import {registry} from "@web/core/registry";
import {exactly} from "@sales_funnel_pl/../tests/tours/tour_utils";

const BAND = ".o_sales_funnel_board .o_sales_funnel_band";

function band(stage, count, conversion) {
    const conversionStep = conversion
        ? `:has(.o_sales_funnel_band_conversion${exactly(`${conversion}\\s%`)})`
        : "";
    return `${BAND}[title='${stage}']:has(.o_sales_funnel_band_count${exactly(count)})${conversionStep}`;
}

function choose(selector, label) {
    return {
        content: `Choose ${label}`,
        trigger: selector,
        run() {
            const select = this.anchor;
            const option = [...select.options].find(
                (opt) => opt.textContent.trim() === label
            );
            select.value = option.value;
            select.dispatchEvent(new Event("change"));
        },
    };
}

registry.category("web_tour.tours").add("sales_funnel_pl_board", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Open CRM › Raportowanie",
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "The funnel board comes first in the addon's section",
            trigger:
                ".dropdown-item[data-menu-xmlid='sales_funnel_pl.sales_funnel_board_menu']:contains('Lejek sprzedaży')",
            run: "click",
        },
        {
            content: "This month, every team: four started",
            trigger: band("Nowy Prospekt", "4"),
        },
        {
            content: "Two of them reached Informacje o potrzebie: 50 %",
            trigger: band("Informacje o potrzebie", "2", "50,0"),
        },
        {
            content: "An empty stage stays, as a thin band with zeros",
            trigger: `${BAND}.o_sales_funnel_band_empty[title='Negocjacje 2']:has(.o_sales_funnel_band_count${exactly(0)})`,
        },
        {
            content: "The headline: five open opportunities without a next action",
            trigger: `.o_sales_funnel_board_figure[data-figure='no_action'] .fs-4${exactly(5)}`,
        },
        {
            content:
                "The eight headline figures on one row, inside the board (1366 px)",
            trigger: ".o_sales_funnel_board_figure[data-figure='no_action']",
            run() {
                const headline = document
                    .querySelector(".o_sales_funnel_board_headline")
                    .getBoundingClientRect();
                const figures = [
                    ...document.querySelectorAll(".o_sales_funnel_board_figure"),
                ].map((figure) => figure.getBoundingClientRect());
                const rows = new Set(figures.map((figure) => Math.round(figure.top)));
                const outside = figures.filter(
                    (figure) => figure.right > Math.ceil(headline.right)
                );
                if (figures.length !== 8 || rows.size !== 1 || outside.length) {
                    throw new Error(
                        `${figures.length} figures on ${rows.size} rows, ${outside.length} outside the board`
                    );
                }
            },
        },
        {
            content:
                "Jan sees his own opportunities only: the salesperson filter offers his own and the unassigned ones, or his own",
            trigger: ".o_sales_funnel_board_user",
            run() {
                const labels = [...this.anchor.options].map((option) =>
                    option.textContent.trim()
                );
                if (labels.join(" | ") !== "Moje i nieprzypisane | Jan Kowalski") {
                    throw new Error(`Salesperson filter: ${labels.join(" | ")}`);
                }
            },
        },
        {
            content: "No sales target for the month: the figure says so, in Polish",
            trigger:
                ".o_sales_funnel_board_figure[data-figure='target']:contains('Cel sprzedażowy'):contains('Realizacja celu: –')",
        },
        choose(".o_sales_funnel_board_period", "Ostatnie 12 miesięcy"),
        {
            content: "The last twelve months: the one started in the summer too",
            trigger: band("Nowy Prospekt", "5"),
        },
        choose(".o_sales_funnel_board_team", "Zespół Testowy"),
        {
            content:
                "Zespół Testowy alone: four started, two reached Informacje o potrzebie",
            trigger: `${band("Nowy Prospekt", "4")}`,
        },
        {
            content: "Conversion into Informacje o potrzebie: 2 of 4",
            trigger: band("Informacje o potrzebie", "2", "50,0"),
        },
        {
            content: "Conversion into Firma: 1 of 2",
            trigger: band("Firma", "1", "50,0"),
        },
        {
            content: "Open the opportunities that reached Informacje o potrzebie",
            trigger: band("Informacje o potrzebie", "2"),
            run: "click",
        },
        {
            content: "Exactly those two",
            trigger:
                ".o_list_view:has(.o_data_row:contains('Spotkanie u klienta')):has(.o_data_row:contains('Zapytanie ofertowe'))",
            run() {
                const rows = [...document.querySelectorAll(".o_list_view .o_data_row")];
                if (rows.length !== 2) {
                    throw new Error(`${rows.length} opportunities listed instead of 2`);
                }
            },
        },
        {
            content: "Back to the board",
            trigger: ".breadcrumb-item.o_back_button:contains('Lejek sprzedaży')",
            run: "click",
        },
        {
            content: "The board keeps its period and team",
            trigger: `${band("Nowy Prospekt", "4")}`,
            run() {
                const team = document.querySelector(".o_sales_funnel_board_team");
                const period = document.querySelector(".o_sales_funnel_board_period");
                const teamName = team.options[team.selectedIndex].textContent.trim();
                if (
                    teamName !== "Zespół Testowy" ||
                    period.value !== "last_12_months"
                ) {
                    throw new Error(`Board restored with ${teamName}, ${period.value}`);
                }
            },
        },
        {
            content: "Switch to the open opportunities now",
            trigger: ".o_sales_funnel_board_reading button[data-reading='now']",
            run: "click",
        },
        {
            content: "The reading switched",
            trigger:
                ".o_sales_funnel_board_reading button.btn-primary[data-reading='now']",
        },
        {
            content: "Now: two open in Nowy Prospekt (the same team)",
            trigger: band("Nowy Prospekt", "2"),
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_board_other_salesperson", {
    steps: () => [
        {
            content:
                "A link to another salesperson's board: Jan sees his own opportunities, as the filter says",
            trigger: `${band("Nowy Prospekt", "2")}`,
            run() {
                const select = document.querySelector(".o_sales_funnel_board_user");
                const label = select.options[select.selectedIndex].textContent.trim();
                if (label !== "Moje i nieprzypisane") {
                    throw new Error(`Salesperson filter: ${label}`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_board_from_url", {
    steps: () => [
        {
            content:
                "A link (or a reload) with the board's filters: the board opens with them, on both series",
            trigger: `.o_sales_funnel_board_reading button[data-reading='now'].btn-primary`,
            run() {
                const period = document.querySelector(
                    ".o_sales_funnel_board_period"
                ).value;
                const team = document
                    .querySelector(".o_sales_funnel_board_team option:checked")
                    .textContent.trim();
                if (period !== "year" || team !== "Zespół Testowy") {
                    throw new Error(`Filters from the URL: ${period}, ${team}`);
                }
            },
        },
        {
            content:
                "The band counts the team's open opportunity, not the other team's",
            trigger: `${band("Nowy Prospekt", "1")}`,
        },
    ],
});
