// agent.js is the page at #/agent/NAME: one agent, its settings and
// where each came from, its schedules, jobs and sessions, and the
// buttons to run, disable, enable and cancel.

import * as api from "./api.js";
import { h, replace, table, link, dl, href } from "./dom.js";
import { badge, crumbs, section, debounce, notice, action } from "./ui.js";
import { relative, money, spent, stamp, duration, every, short, tokens } from "./format.js";

const PAGE = 20;

function runForm(name, disabled) {
    const prompt = h("textarea", { id: "run-prompt", rows: "3", placeholder: "The agent's default prompt" });
    const go = h("button", { type: "submit", class: "primary", disabled }, "Run now");
    const form = h("form", { class: "run", "aria-label": "Run now" },
                   h("label", { for: "run-prompt" }, "Prompt (optional)"), prompt, h("div", { class: "row" }, go));
    form.addEventListener("submit", ev => {
        ev.preventDefault();
        go.disabled = true;
        notice(null);
        api.trigger(name, "", prompt.value, { queue: true })
                .then(id => window.cockpit.location.go(["job", id]))
                .catch(err => { notice(err); go.disabled = false });
    });
    return form;
}

function jobRows(js, now) {
    return js.map(j => [
        link(["job", j.id], j.id), j.schedule || j.trigger, badge(j.status), stamp(j.started), duration(j, now),
        String(j.turns || 0), money(spent(j)), short(j.exit_reason, 80),
        api.finished(j.status) ? "" : action("Cancel", () => api.cancel(j.id), { "aria-label": "Cancel job " + j.id }),
    ]);
}

export function agentPage(main, name) {
    crumbs([name]);
    let offset = 0;
    // The run form stays in place across redraws, so that what is being
    // typed keeps its text and its focus when a signal redraws the rest.
    const top = h("div"), form = runForm(name, false), body = h("div");
    replace(main, top, form, body);
    form.hidden = true;
    const render = () => Promise.all([
        api.agent(name), api.show(name), api.jobs({ agent: name, limit: PAGE + 1, offset }), api.sessions(name),
    ]).then(([a, settings, js, ss]) => {
        const now = Date.now();
        const more = js.length > PAGE;
        js = js.slice(0, PAGE);
        const toggle = a.disabled
            ? action("Enable", () => api.setEnabled(name, true).then(render), { class: "primary", id: "enable" })
            : action("Disable", () => api.setEnabled(name, false).then(render), { id: "disable" });
        replace(top,
                h("h1", {}, name, a.disabled ? [" ", badge("disabled")] : null),
                a.description ? h("p", { class: "description" }, a.description) : null,
                h("div", { class: "actions" }, toggle, h("a", { class: "button", href: href(["chat", name]) }, "Chat with " + name)),
                a.disabled ? h("p", { class: "muted" }, "Disabled: no timers and no runs until it is enabled again.") : null);
        form.hidden = !!a.disabled;
        replace(body,
                dl([["File", h("code", {}, a.file)], ["Image", a.image], ["Network", a.network],
                    ["Workspace", [h("code", {}, a.workspace), ` (${a.workspace_mode})`]], ["Runs as", a.user],
                    ["At most", `${a.max_concurrent} job(s) at once, ${a.running || 0} running`]]),
                section("Schedules",
                        table("Schedules", ["Schedule", "When", "Timer", "Next run", "Last run"],
                              (a.schedules || []).map(sc => [sc.name, sc.type === "cron" ? h("code", {}, sc.cron) : every(sc.every_usec),
                                  sc.enabled ? badge(sc.timer_state || "inactive") : badge("off"),
                                  sc.next_run ? `${stamp(sc.next_run)} (${relative(sc.next_run, now)})` : "–",
                                  sc.last_run ? stamp(sc.last_run) : "–"]),
                              "No schedules: the agent runs when triggered.")),
                section("Jobs",
                        table("Jobs, newest first", ["Job", "Schedule", "Status", "Started", "Duration", "Turns", "Cost", "Reason", ""], jobRows(js, now), offset ? "No more jobs." : "No jobs yet."),
                        h("div", { class: "pager" },
                          h("button", { type: "button", disabled: offset === 0, on: { click: () => { offset = Math.max(0, offset - PAGE); render() } } }, "Newer"),
                          h("span", { class: "muted" }, js.length ? ` jobs ${offset + 1}–${offset + js.length} ` : " "),
                          h("button", { type: "button", disabled: !more, on: { click: () => { offset += PAGE; render() } } }, "Older"))),
                section("Sessions",
                        table("Sessions, newest first", ["Session", "Jobs", "Turns", "Tokens in/out", "Cost", "First", "Last", ""],
                              ss.map(x => [h("code", {}, x.id.slice(0, 8)), String(x.jobs), String(x.turns), `${tokens(x.input_tokens)} / ${tokens(x.output_tokens)}`,
                                  money(x.cost_usd), stamp(x.first_started), stamp(x.last_started),
                                  h("a", { href: href(["chat", name], { session: x.id }) }, "Continue in chat")]),
                              "No sessions yet.")),
                section("Effective settings",
                        h("p", { class: "muted" }, "Each value and where it was set, as herdctlctl show prints them."),
                        table("Effective settings", ["Setting", "Value", "From"], settings.map(v => [h("code", {}, v.field), v.value, v.from]))));
        main.setAttribute("aria-busy", "false");
    }).catch(err => {
        notice(err);
        if (!top.querySelector("h1"))
            replace(top, h("h1", {}, name), h("p", {}, "This agent cannot be shown. ", link([], "Back to the fleet")));
    });
    const refresh = debounce(render, 300);
    const stop = api.subscribe((signal, args) => {
        if (signal !== "JobStarted" && signal !== "JobFinished" || args[1] === name)
            refresh();
    });
    render();
    return () => { stop(); refresh.cancel() };
}
