// herdctl.js starts the page: it checks who is logged in, then shows the
// route the address names (cockpit.location), and again whenever it
// changes. Routes: #/ (the fleet), #/agent/NAME, #/job/ID,
// #/chat/NAME[?session=ID].

import * as api from "./api.js";
import { h, replace } from "./dom.js";
import { crumbs, notice } from "./ui.js";
import { overview } from "./overview.js";
import { agentPage } from "./agent.js";
import { jobPage } from "./job.js";
import { chatPage } from "./chat.js";

const cockpit = window.cockpit;
const main = document.getElementById("main");
let leave = null;

function outsider(user) {
    crumbs([]);
    replace(main,
            h("h1", {}, "Agents"),
            h("div", { class: "alert alert-info", id: "not-in-group" },
              h("p", {}, h("strong", {}, `${user.name} is not in group ${api.GROUP}.`),
                " Only root and members of that group may see and steer herdctl's agents."),
              h("p", {}, "An administrator adds you with:"),
              h("pre", { class: "text" }, `sudo usermod -aG ${api.GROUP} ${user.name}\nsudo systemctl reload dbus`),
              h("p", {}, "Then log out of Cockpit and log in again: group membership is read at login.")));
    main.setAttribute("aria-busy", "false");
}

function notFound() {
    crumbs(["Not found"]);
    replace(main, h("h1", {}, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/" }, "Back to the fleet")));
}

function route() {
    if (leave)
        leave();
    leave = null;
    notice(null);
    main.setAttribute("aria-busy", "true");
    const loc = cockpit.location;
    const [page, arg, ...rest] = loc.path;
    if (rest.length)
        return notFound();
    if (!page)
        leave = overview(main);
    else if (page === "agent" && arg)
        leave = agentPage(main, arg);
    else if (page === "job" && arg)
        leave = jobPage(main, arg);
    else if (page === "chat" && arg)
        leave = chatPage(main, arg, loc.options || {});
    else
        notFound();
    main.focus({ preventScroll: true });
}

api.who().then(user => {
    if (!user.allowed)
        return outsider(user);
    cockpit.addEventListener("locationchanged", route);
    route();
}).catch(err => {
    notice(err);
    replace(main, h("h1", {}, "Agents"), h("p", {}, "Cockpit could not say who is logged in."));
});
