// overview.js is the page at #/: the whole fleet, live.

import * as api from "./api.js";
import { h, replace, table, link, href } from "./dom.js";
import { badge, crumbs, section, debounce, notice, action } from "./ui.js";
import { relative, money, short, stamp, day, duration } from "./format.js";
import { costChart, lastDays } from "./chart.js";

const DAYS = 14;

function configErrors(errs) {
    return h("ul", { class: "errors" }, (errs || []).map(e =>
        h("li", {},
          h("code", {}, [e.file, e.line, e.column].filter(Boolean).join(":") || "fleet"),
          e.field ? [" ", h("code", {}, e.field)] : null,
          " ", e.message)));
}

function schedules(a, now) {
    if (a.disabled)
        return h("span", { class: "muted" }, "disabled");
    if (!a.schedules || a.schedules.length === 0)
        return h("span", { class: "muted" }, "manual only");
    return h("ul", { class: "plain" }, a.schedules.map(sc =>
        h("li", {}, h("span", { class: "sched" }, sc.name), " ",
          sc.enabled ? (sc.next_run ? relative(sc.next_run, now) : h("span", { class: "muted" }, "no next run"))
              : h("span", { class: "muted" }, "off"))));
}

function lastJob(a) {
    if (!a.last_job)
        return h("span", { class: "muted" }, "never ran");
    return h("span", {}, badge(a.last_status), " ", link(["job", a.last_job], a.last_job));
}

export function overview(main) {
    crumbs([]);
    const now = () => Date.now();
    const render = () => Promise.all([
        api.status(), api.agents(), api.jobs({ status: "running" }), api.jobs({ status: "queued" }),
        api.cost({ since: new Date(new Date().getFullYear(), new Date().getMonth(), new Date().getDate() - (DAYS - 1)).getTime() * 1000 }),
    ]).then(([st, agents, running, queued, rows]) => {
        const days = lastDays(rows, DAYS, day);
        const today = days[days.length - 1];
        const active = running.concat(queued);
        replace(main,
                h("h1", {}, "Agents"),
                h("p", { class: "muted" }, `Fleet ${st.fleet_name || "(unnamed)"} · herdctl ${st.version} · config ${st.config_file} · last reload ${stamp(st.last_reload)}`),
                h("ul", { class: "cards", "aria-label": "Summary" },
                  h("li", {}, h("span", { class: "num", id: "count-agents" }, String(st.agents)), " agents"),
                  h("li", {}, h("span", { class: "num", id: "count-running" }, String(st.running_jobs)), " running"),
                  h("li", {}, h("span", { class: "num" }, String(st.timers)), " timers"),
                  h("li", {}, h("span", { class: "num", id: "cost-today" }, money(today.cost)), " today, ", String(today.jobs), " jobs")),
                st.reload_error ? h("div", { class: "alert alert-error", role: "status" }, h("strong", {}, "The last reload failed: "), st.reload_error,
                                    st.running_last_good ? " The fleet runs on the last good configuration." : "", configErrors(st.reload_errors)) : null,
                (st.broken_agents || []).length ? section("Left out for errors",
                    h("p", {}, "These agents' files have errors: their timers are stopped until the files are fixed and the fleet reloaded."),
                    table("Agents left out", ["Agent", "File", "Errors"], st.broken_agents.map(b => [b.name || "–", h("code", {}, b.file), configErrors(b.errors)]))) : null,
                (st.warnings || []).length ? section("Warnings", configErrors(st.warnings)) : null,
                section("Fleet",
                        table({ text: "Agents", visible: false }, ["Agent", "Description", "Schedules (next run)", "Last job", "Running", ""],
                              agents.map(a => h("tr", { "data-agent": a.name },
                                                h("td", { "data-label": "Agent" }, link(["agent", a.name], a.name), a.disabled ? [" ", badge("disabled")] : null),
                                                h("td", { "data-label": "Description" }, short(a.description, 90)),
                                                h("td", { "data-label": "Schedules" }, schedules(a, now())),
                                                h("td", { "data-label": "Last job" }, lastJob(a)),
                                                h("td", { "data-label": "Running" }, String(a.running || 0)),
                                                h("td", { "data-label": "" }, h("a", { href: href(["chat", a.name]) }, "Chat")))),
                              "No agents: add one to /etc/herdctl/herdctl.toml or /etc/herdctl/fleet.d/, then systemctl reload herdctl.")),
                section("Running jobs",
                        table("Running and queued jobs", ["Job", "Agent", "Status", "Started", "Running for", ""],
                              active.map(j => [link(["job", j.id], j.id), link(["agent", j.agent], j.agent), badge(j.status), stamp(j.started), duration(j, now()),
                                  action("Cancel", () => api.cancel(j.id), { "aria-label": "Cancel job " + j.id })]),
                              "No job is running.")),
                section("Cost and jobs, last 14 days", costChart(days)));
        main.setAttribute("aria-busy", "false");
    }).catch(err => notice(err));

    const refresh = debounce(render, 300);
    const stop = api.subscribe(() => refresh());
    // Next runs and durations are relative: redraw them now and then.
    const tick = setInterval(render, 30000);
    render();
    return () => { stop(); refresh.cancel(); clearInterval(tick) };
}
