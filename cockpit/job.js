// job.js is the page at #/job/ID: one job's record, and its journal
// entries from the first, arriving live while it runs.

import * as api from "./api.js";
import { h, replace, table, link, dl, href } from "./dom.js";
import { badge, crumbs, section, notice, action, pre } from "./ui.js";
import { money, spent, stamp, duration, tokens } from "./format.js";

const POLL_MS = 1000;

// entryLine is one journal entry as the page lists it.
function entryLine(e) {
    const us = Number(api.entryText(e.__REALTIME_TIMESTAMP));
    const t = us ? new Date(us / 1000).toLocaleTimeString() : "";
    const kind = api.entryText(e.HERDCTL_EVENT) || "log";
    return h("li", { class: "event event-" + kind.replace(/[^a-z_]/g, "") },
             h("time", {}, t), h("span", { class: "kind" }, kind),
             h("span", { class: "line" }, api.entryText(e.MESSAGE)));
}

function egressRow(e) {
    return [api.entryText(e.HERDCTL_EGRESS), api.entryText(e.HERDCTL_EGRESS_HOST), api.entryText(e.HERDCTL_EGRESS_PORT),
        api.entryText(e.HERDCTL_EGRESS_PHASE), api.entryText(e.HERDCTL_EGRESS_ADDR)];
}

// follow reads a job's journal entries from its first and calls onEntry
// for each, asking for more every second until stopped; done() says the
// job has ended, after which one last read drains what is left.
export function follow(id, onEntry, onError) {
    let cursor = "", stopped = false, ended = false, timer = null;
    const read = () => api.journal({ job: id, after_cursor: cursor }).then(page => {
        for (const line of page.entries || []) {
            try {
                onEntry(JSON.parse(line));
            } catch (e) { /* an entry that is not JSON is skipped */ }
        }
        cursor = page.cursor || cursor;
        return page.more ? read() : null;
    });
    const loop = () => {
        if (stopped)
            return;
        const last = ended;
        read().then(() => {
            if (!stopped && !last)
                timer = setTimeout(loop, POLL_MS);
        }, err => {
            if (onError)
                onError(err);
            if (!stopped && !last)
                timer = setTimeout(loop, POLL_MS * 5);
        });
    };
    loop();
    return {
        done() {
            if (!ended) {
                ended = true;
                clearTimeout(timer);
                timer = setTimeout(loop, 500);
            }
        },
        stop() { stopped = true; clearTimeout(timer) },
    };
}

export function jobPage(main, id) {
    crumbs([id]);
    const head = h("div"), details = h("div");
    const events = h("ol", { class: "events", id: "events", "aria-live": "polite", "aria-label": "Events" });
    const egressBody = h("tbody");
    const egress = h("div", { class: "table-wrap", hidden: true },
                     h("table", {}, h("caption", { class: "sr-only" }, "Egress decisions"),
                       h("thead", {}, h("tr", {}, ["Decision", "Host", "Port", "Phase", "Address"].map(x => h("th", { scope: "col" }, x)))),
                       egressBody));
    const noEvents = h("p", { class: "muted", id: "no-events" }, "No events yet.");
    replace(main, head, details,
            section("Egress decisions", egress, h("p", { class: "muted", id: "no-egress" }, "None: the job opened no connection through the egress proxy.")),
            section("Events", noEvents, events));

    const tail = follow(id, e => {
        noEvents.hidden = true;
        events.appendChild(entryLine(e));
        if (api.entryText(e.HERDCTL_EVENT) === "egress") {
            egress.hidden = false;
            main.querySelector("#no-egress").hidden = true;
            egressBody.appendChild(h("tr", {}, egressRow(e).map(c => h("td", {}, c))));
        }
    }, err => notice(err));

    let ticker = null;
    const render = () => api.job(id).then(j => {
        if (j.id !== id) {
            // A unique prefix of an id finds the job: show it under its
            // own address, so the page never names another id.
            window.cockpit.location.replace(["job", j.id]);
            return;
        }
        crumbs([[j.agent, href(["agent", j.agent])], id]);
        const running = !api.finished(j.status);
        replace(head,
                h("h1", {}, "Job ", id),
                h("p", { class: "status-line" }, badge(j.status), " ", j.exit_reason && j.exit_reason !== j.status ? j.exit_reason : "",
                  running ? [" ", action("Cancel", () => api.cancel(id), { id: "cancel" })] : null));
        replace(details,
                dl([["Agent", link(["agent", j.agent], j.agent)], ["Schedule", j.schedule], ["Trigger", j.trigger],
                    ["Status", j.status], ["Reason", j.exit_reason], ["Error", j.error],
                    ["Started", stamp(j.started)], ["Finished", j.finished ? stamp(j.finished) : null], ["Duration", duration(j, Date.now())],
                    ["Unit", j.unit ? `${j.unit} (${j.unit_state || "–"})` : null],
                    ["Session", j.session_id ? [h("code", {}, j.session_id), " ", link(["chat", j.agent], "continue in chat", { session: j.session_id })] : null],
                    ["Resumed", j.resume], ["Turns", String(j.turns || 0)],
                    ["Tokens", `${tokens(j.input_tokens)} in, ${tokens(j.output_tokens)} out`],
                    ["Cost", money(spent(j)) + (j.api_requests ? ` (relay metered ${money(j.api_cost_usd)} over ${j.api_requests} requests; Claude Code reported ${money(j.cost_usd)})` : "")],
                    ["Egress", j.egress_allowed || j.egress_denied ? `${j.egress_allowed || 0} allowed, ${j.egress_denied || 0} refused, ${tokens(j.egress_bytes_up)} bytes up, ${tokens(j.egress_bytes_down)} down` : null],
                    ["Output dropped", j.output_dropped ? `${tokens(j.output_dropped)} bytes over the journal budget` : null]]),
                j.redacted ? h("p", { class: "muted" }, "The prompt and result are withheld: they are for root, group herdctl and the agent's user.") : null,
                section("Prompt", pre(j.prompt, "Prompt")),
                section("Result", j.result ? pre(j.result, "Result") : h("p", { class: "muted", id: "no-result" }, running ? "The job is still running." : "No result.")),
                (j.hooks || []).length ? section("Hooks", table("Hooks", ["Hook", "Type", "Status", "Reason", "HTTP", "Attempts", "Unit"],
                                                                j.hooks.map(k => [k.hook, k.type, badge(k.status), k.reason || "", k.http_status ? String(k.http_status) : "",
                                                                    k.attempts ? String(k.attempts) : "", h("code", {}, k.unit || "")]))) : null);
        main.setAttribute("aria-busy", "false");
        clearTimeout(ticker);
        if (running)
            ticker = setTimeout(render, 5000);
        else
            tail.done();
    }).catch(err => {
        notice(err);
        tail.done();
    });
    const stop = api.subscribe((signal, args) => {
        if ((signal === "JobFinished" || signal === "JobStarted") && args[0] === id)
            render();
    });
    render();
    return () => { stop(); tail.stop(); clearTimeout(ticker) };
}
