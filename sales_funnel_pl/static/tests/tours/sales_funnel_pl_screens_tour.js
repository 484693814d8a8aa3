/** @odoo-module **/

import {registry} from "@web/core/registry";
import {
    STAGES,
    exactly,
    openMenu,
    text,
} from "@sales_funnel_pl/../tests/tours/tour_utils";

registry.category("web_tour.tours").add("sales_funnel_pl_settings", {
    url: "/odoo/action-crm.crm_config_settings_action",
    steps: () => [
        {
            content: "The addon's settings form a block of their own, after crm's",
            trigger: ".app_settings_block[data-key=crm] h2:contains('Lejek sprzedaży')",
            run() {
                const heading = this.anchor;
                const labels = [];
                let next = heading.nextElementSibling;
                for (; next && next.tagName !== "H2"; next = next.nextElementSibling) {
                    for (const box of next.querySelectorAll(".o_setting_box")) {
                        labels.push(text(box.querySelector(".o_form_label")));
                    }
                }
                const expected = [
                    "Następne działanie posprzedażne",
                    "Prawdopodobieństwo z etapu",
                    "Dopasowanie lejka",
                ].join(" | ");
                if (labels.join(" | ") !== expected) {
                    throw new Error(`Under "Lejek sprzedaży": ${labels.join(" | ")}`);
                }
                // crm's own settings stay in crm's blocks, before the addon's
                const app = heading.closest(".app_settings_block");
                for (const label of [
                    "Wiele zespołów",
                    "Predykcyjny scoring leadów",
                    "Przypisanie oparte na regułach",
                ]) {
                    const crmLabel = [
                        ...app.querySelectorAll(".o_setting_box .o_form_label"),
                    ].find((element) => text(element) === label);
                    if (
                        !crmLabel ||
                        !(
                            crmLabel.compareDocumentPosition(heading) &
                            Node.DOCUMENT_POSITION_FOLLOWING
                        )
                    ) {
                        throw new Error(
                            `crm's "${label}" is not before the addon's block`
                        );
                    }
                }
            },
        },
        {
            content:
                "The settings explain what predictive lead scoring does with the funnel",
            trigger:
                "#sales_funnel_stage_probability:contains('Predykcyjny scoring leadów'):contains('Nigdy nie zastępuje prawdopodobieństwa szansy')",
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_menus", {
    url: "/odoo/crm",
    steps: () => [
        openMenu("crm.crm_menu_report"),
        {
            content: "Raportowanie: one entry per report, crm's where crm puts them",
            trigger:
                ".o-dropdown--menu .dropdown-item[data-menu-xmlid='sales_funnel_pl.sales_funnel_forecast_report_menu']",
            run() {
                const menu = this.anchor.closest(".o-dropdown--menu");
                const entries = [...menu.querySelectorAll(".dropdown-item")].map(text);
                const duplicates = entries.filter(
                    (entry, index) => entries.indexOf(entry) !== index
                );
                const expected = {
                    "crm.crm_menu_forecast": "Prognoza",
                    "crm.crm_opportunity_report_menu": "Lejek",
                    "sales_funnel_pl.sales_funnel_board_menu": "Lejek sprzedaży",
                    "sales_funnel_pl.crm_lead_funnel_menu":
                        "Otwarte szanse według etapów",
                    "sales_funnel_pl.sales_funnel_forecast_report_menu":
                        "Prognoza sprzedaży",
                    "sales_funnel_pl.sales_funnel_forecast_won_report_menu":
                        "Prognoza a wykonanie",
                    "sales_funnel_pl.sales_funnel_target_menu": "Cele sprzedażowe",
                    "sales_funnel_pl.sales_funnel_forecast_snapshot_menu":
                        "Zapisane prognozy",
                };
                const found = Object.keys(expected).map((xmlid) => {
                    const item = menu.querySelector(
                        `.dropdown-item[data-menu-xmlid='${xmlid}']`
                    );
                    return item && text(item);
                });
                if (
                    duplicates.length ||
                    found.join(" | ") !== Object.values(expected).join(" | ") ||
                    entries.filter((entry) => ["Lejek", "Prognoza"].includes(entry))
                        .length !== 2
                ) {
                    throw new Error(`Raportowanie: ${entries.join(" | ")}`);
                }
            },
        },
        {
            content: "Close Raportowanie",
            trigger: ".o_menu_sections [data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "Raportowanie is closed",
            trigger: "body:not(:has(.o-dropdown--menu))",
        },
        openMenu("crm.crm_menu_config"),
        {
            content: "Konfiguracja › Etapy, without developer mode",
            trigger:
                ".o-dropdown--menu .dropdown-item[data-menu-xmlid='crm.menu_crm_lead_stage_act']:contains('Etapy')",
            run: "click",
        },
        {
            content: "The stages of the funnel, with their probability",
            trigger: `.o_list_view .o_data_row:has(td[name=name]${exactly("Należność")}):has(td[name=probability]${exactly(100)})`,
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_stage_map_nothing", {
    url: "/odoo/crm",
    steps: () => [
        openMenu("crm.crm_menu_config"),
        {
            content: "Open Przypisz etapy do lejka",
            trigger:
                ".o-dropdown--menu .dropdown-item[data-menu-xmlid='sales_funnel_pl.crm_stage_map_menu']",
            run: "click",
        },
        {
            content: "The wizard says that all stages are already in the funnel",
            trigger: ".modal .alert:contains('Wszystkie etapy są już w lejku')",
        },
        {
            content: "It offers Close only, no button moving opportunities",
            trigger:
                ".modal .modal-footer:not(:has(button:contains('Przenieś szanse')))",
            run() {
                const buttons = [...this.anchor.querySelectorAll("button")]
                    .filter((button) => button.offsetParent !== null)
                    .map(text);
                if (buttons.join(" | ") !== "Zamknij") {
                    throw new Error(`Buttons: ${buttons.join(" | ")}`);
                }
            },
        },
        {
            content: "Close it",
            trigger: ".modal .modal-footer button:contains('Zamknij')",
            run: "click",
        },
        {
            content: "The wizard is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_reassign", {
    url: "/odoo/crm",
    steps: () => [
        openMenu("crm.crm_menu_sales"),
        {
            content: "Open Przekaż szanse",
            trigger:
                ".o-dropdown--menu .dropdown-item[data-menu-xmlid='sales_funnel_pl.crm_lead_reassign_menu']",
            run: "click",
        },
        {
            content: "Nothing to move yet: no Reassign button",
            trigger: ".modal .modal-footer:not(:has(button[name=action_reassign]))",
        },
        {
            content: "From the salesperson who left",
            trigger: ".modal .o_field_widget[name=from_user_id] input",
            run: "edit Piotr",
        },
        {
            content: "Pick Piotr Wiśniewski",
            trigger: ".o-autocomplete--dropdown-item:contains('Piotr Wiśniewski')",
            run: "click",
        },
        {
            content: "To Jan Kowalski",
            trigger: ".modal .o_field_widget[name=to_user_id] input",
            run: "edit Jan",
        },
        {
            content: "Pick Jan Kowalski",
            trigger: ".o-autocomplete--dropdown-item:contains('Jan Kowalski')",
            run: "click",
        },
        {
            content: "The opportunities that will move are listed",
            trigger:
                ".modal .o_field_widget[name=moving_lead_ids] .o_data_row:contains('Dostawa serwerów'):contains('Spotkanie')",
            run() {
                const rows = [
                    ...document.querySelectorAll(
                        ".modal .o_field_widget[name=moving_lead_ids] .o_data_row"
                    ),
                ].map(text);
                if (
                    rows.length !== 2 ||
                    !rows.some((row) => row.includes("Modernizacja hali"))
                ) {
                    throw new Error(`Opportunities: ${rows.join(" | ")}`);
                }
            },
        },
        {
            content: "Show the activities that will move",
            trigger: ".modal .o_notebook a.nav-link:contains('Przekazywane czynności')",
            run: "click",
        },
        {
            content: "The salesperson's open activity is listed",
            trigger:
                ".modal .o_field_widget[name=moving_activity_ids] .o_data_row:contains('Zadzwonić do klienta'):contains('Dostawa serwerów')",
        },
        {
            content: "Reassign",
            trigger: ".modal .modal-footer button[name=action_reassign]",
            run: "click",
        },
        {
            content: "A confirmation is asked before anything moves: cancel",
            trigger:
                ".modal:contains('Przekazać te szanse i czynności nowemu sprzedawcy?') .modal-footer button:contains('Anuluj')",
            run: "click",
        },
        {
            content: "Back in the wizard, reassign again",
            trigger:
                ".modal:not(:contains('Przekazać te szanse')) .modal-footer button[name=action_reassign]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger:
                ".modal:contains('Przekazać te szanse i czynności nowemu sprzedawcy?') .modal-footer .btn-primary:contains('Przekaż')",
            run: "click",
        },
        {
            content: "Done: the wizard is closed and the result notified",
            trigger: `body:not(:has(.modal)) .o_notification .o_notification_content${exactly(
                "Przekazane szanse: 2. Poprzedni sprzedawca: Piotr Wiśniewski, nowy sprzedawca: Jan Kowalski."
            )}`,
        },
    ],
});

registry.category("web_tour.tours").add("sales_funnel_pl_funnel_graph", {
    url: "/odoo/crm",
    steps: () => [
        openMenu("crm.crm_menu_report"),
        {
            content: "Open Otwarte szanse według etapów",
            trigger:
                ".o-dropdown--menu .dropdown-item[data-menu-xmlid='sales_funnel_pl.crm_lead_funnel_menu']",
            run: "click",
        },
        {
            content: "The graph has a bar for each of the 17 stages, in funnel order",
            trigger:
                ".o_graph_view:not(:has(.o_view_sample_data)) .o_graph_renderer canvas",
            run() {
                const chart = window.Chart.getChart(this.anchor);
                const labels = chart.data.labels.map((label) =>
                    Array.isArray(label) ? label.join(" ") : String(label)
                );
                if (labels.join(" | ") !== STAGES.join(" | ")) {
                    throw new Error(`Bars: ${labels.join(" | ")}`);
                }
                const counts = chart.data.datasets[0].data;
                if (
                    counts.length !== 17 ||
                    counts[0] !== 1 ||
                    counts[3] !== 2 ||
                    counts[16] !== 0
                ) {
                    throw new Error(`Counts: ${counts.join(", ")}`);
                }
            },
        },
        {
            content: "The pivot shows the same 17 stages",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "Należność in the pivot",
            trigger: ".o_pivot tr:has(th:contains('Należność'))",
            run() {
                const rows = document.querySelectorAll(".o_pivot tbody tr").length;
                // the total row and the 17 stages
                if (rows !== 18) {
                    throw new Error(`${rows} pivot rows`);
                }
            },
        },
    ],
});
