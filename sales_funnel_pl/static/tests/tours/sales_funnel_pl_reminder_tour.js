/** @odoo-module **/

import {registry} from "@web/core/registry";

// The daily reminder, as a salesperson who reads their notifications in
// Odoo finds it: in the messaging menu of the systray
registry.category("web_tour.tours").add("sales_funnel_pl_reminder_messaging_menu", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "Open the messaging menu",
            trigger: ".o_menu_systray i.fa-comments",
            run: "click",
        },
        {
            content: "It lists the reminder, under the salesperson's name",
            trigger:
                ".o-mail-MessagingMenu .o-mail-NotificationItem:contains('Jan Kowalski'):contains('Zaległe następne działania'):contains('Drukarnia Wisła: Telefon do prezesa')",
        },
    ],
});
