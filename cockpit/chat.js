// chat.js is the page at #/chat/NAME[?session=ID]: a conversation with
// one agent. Each message is a manual job that continues the
// conversation's Claude Code session (as the chat bridge does with
// --resume); the conversation is read back from the jobs of that
// session, so it survives a reload.

import * as api from "./api.js";
import { h, replace, href } from "./dom.js";
import { crumbs, notice, debounce } from "./ui.js";
import { stamp, short, money } from "./format.js";
import { follow } from "./job.js";

const RECENT = 12;

function bubble(who, text, failed) {
    return h("li", { class: "msg msg-" + who + (failed ? " msg-failed" : "") },
             h("span", { class: "who" }, who === "user" ? "You" : "Agent"),
             h("div", { class: "body" }, text));
}

// answer is what a finished job says back: its result, or why it has none.
// A job that did not complete says so first, whatever its result says:
// an agent can print a result line of its own and then fail.
function answer(j) {
    if (j.status === "completed")
        return j.result || "(no answer)";
    const status = h("strong", { class: "failed" }, `${j.status.replace("_", " ")}${j.exit_reason && j.exit_reason !== j.status ? ": " + j.exit_reason : ""}`);
    return j.result ? [status, h("br"), j.result] : status;
}

export function chatPage(main, name, options) {
    crumbs([[name, href(["agent", name])], "Chat"]);
    let session = options.session || "";
    let pending = null; // {id, tail}
    const list = h("ul", { class: "plain conversations", id: "conversations" });
    const transcript = h("ol", { class: "transcript", id: "transcript", "aria-live": "polite", "aria-label": "Conversation" });
    const input = h("textarea", { id: "chat-input", rows: "3", required: true, "aria-describedby": "chat-hint" });
    const send = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
    const form = h("form", { class: "chat-form", "aria-label": "Send a message" },
                   h("label", { for: "chat-input" }, "Message"), input,
                   h("div", { class: "row" }, h("span", { class: "muted", id: "chat-hint" }, "Ctrl+Enter sends."), send));
    const fresh = h("button", { type: "button", id: "chat-new", on: { click: () => window.cockpit.location.go(["chat", name]) } }, "New conversation");
    const title = h("p", { class: "muted", id: "chat-session" });
    replace(main,
            h("h1", {}, "Chat with ", name),
            h("div", { class: "chat" },
              h("aside", { "aria-labelledby": "conv-title" }, h("h2", { id: "conv-title" }, "Conversations"), fresh, list),
              h("div", { class: "conversation" }, title, transcript, form)));

    const showSession = () => replace(title, session ? ["Session ", h("code", {}, session)] : "A new conversation: your first message starts it.");

    const loadList = () => api.sessions(name).then(ss => {
        replace(list, ss.slice(0, RECENT).map(x => {
            const label = h("span", { class: "label" }, stamp(x.first_started));
            api.job(x.first_job).then(j => { if (j.prompt) replace(label, short(j.prompt, 48)) }).catch(() => {});
            return h("li", { class: x.id === session ? "current" : "" },
                     h("a", { href: href(["chat", name], { session: x.id }), "aria-current": x.id === session ? "page" : null }, label),
                     h("span", { class: "muted small" }, ` ${x.jobs} msg · ${money(x.cost_usd)} · ${stamp(x.last_started)}`));
        }));
        if (ss.length === 0)
            replace(list, h("li", { class: "muted" }, "None yet."));
    });

    // progress shows a running job's latest event in its bubble.
    const progressOf = (id, el) => follow(id, e => {
        const kind = api.entryText(e.HERDCTL_EVENT);
        if (kind && kind !== "egress")
            replace(el, "working… ", short(api.entryText(e.MESSAGE), 120));
    });

    const loadTranscript = () => {
        if (!session) {
            replace(transcript);
            return Promise.resolve();
        }
        return api.jobs({ agent: name, session }).then(js => {
            js.reverse();
            replace(transcript, js.map(j => {
                if (api.finished(j.status))
                    return [bubble("user", j.prompt), bubble("agent", answer(j), j.status !== "completed")];
                if (!pending) {
                    const el = h("span", { class: "progress" }, "working…");
                    pending = { id: j.id, tail: progressOf(j.id, el) };
                    send.disabled = true;
                    return [bubble("user", j.prompt), bubble("agent", el)];
                }
                return [bubble("user", j.prompt), bubble("agent", h("span", { class: "progress" }, "working…"))];
            }));
        });
    };

    const finish = id => api.job(id).then(j => {
        if (!api.finished(j.status))
            return;
        if (pending && pending.id === id) {
            pending.tail.stop();
            pending = null;
        }
        send.disabled = false;
        if (j.session_id && j.session_id !== session) {
            // The first answer of a new conversation names its session:
            // put it in the address, so a reload comes back to it.
            window.cockpit.location.go(["chat", name], { session: j.session_id });
            return;
        }
        loadTranscript().then(() => input.focus());
        loadList();
    }).catch(err => notice(err));

    form.addEventListener("submit", ev => {
        ev.preventDefault();
        const text = input.value.trim();
        if (!text || pending)
            return;
        send.disabled = true;
        notice(null);
        api.trigger(name, "", text, { queue: true, resume: session }).then(id => {
            input.value = "";
            const el = h("span", { class: "progress" }, "working…");
            transcript.appendChild(bubble("user", text));
            transcript.appendChild(bubble("agent", el));
            pending = { id, tail: progressOf(id, el) };
        }).catch(err => {
            notice(err);
            send.disabled = false;
        });
    });
    input.addEventListener("keydown", ev => {
        if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
            ev.preventDefault();
            form.requestSubmit();
        }
    });

    const refreshList = debounce(loadList, 500);
    const stop = api.subscribe((signal, args) => {
        if (signal === "JobFinished" && pending && args[0] === pending.id)
            finish(pending.id);
        else if (signal === "JobFinished" && args[1] === name)
            refreshList();
    });
    // Signals can be missed (a bus hiccup): look at the pending job now
    // and then too.
    const poll = setInterval(() => { if (pending) finish(pending.id) }, 3000);
    showSession();
    Promise.all([loadTranscript(), loadList()]).then(() => {
        main.setAttribute("aria-busy", "false");
        input.focus();
    }).catch(err => notice(err));
    return () => {
        stop();
        clearInterval(poll);
        refreshList.cancel();
        if (pending)
            pending.tail.stop();
    };
}
