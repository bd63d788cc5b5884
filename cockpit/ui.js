// ui.js holds the small pieces every page uses: status badges, the
// notice line, buttons that call the daemon, and the crumbs.

import { h, replace } from "./dom.js";

// badge shows a job's or a timer's status, with its word (never colour
// alone).
export function badge(status) {
    const word = status || "none";
    return h("span", { class: "badge badge-" + word.replace(/[^a-z_]/g, "") }, word.replace("_", " "));
}

// notice shows err (or a message) in the page's alert line; null hides it.
export function notice(err, kind) {
    const el = document.getElementById("notice");
    if (!err) {
        el.hidden = true;
        replace(el);
        return;
    }
    el.hidden = false;
    el.className = "notice notice-" + (kind || "error");
    replace(el, errorText(err), " ",
            h("button", { type: "button", class: "link", on: { click: () => notice(null) } }, "Dismiss"));
}

// errorText is what the daemon said: its D-Bus errors carry a sentence
// that tells the operator what to do.
export function errorText(err) {
    if (!err)
        return "";
    if (err.message)
        return err.message;
    if (err.problem)
        return "Cockpit: " + err.problem;
    return String(err);
}

// action makes a button that runs fn (returning a promise), disabled
// while it runs, with failures shown in the notice line.
export function action(label, fn, attrs) {
    const b = h("button", { type: "button", ...attrs }, label);
    b.addEventListener("click", () => {
        b.disabled = true;
        notice(null);
        Promise.resolve()
                .then(fn)
                .catch(err => notice(err))
                .finally(() => { b.disabled = false });
    });
    return b;
}

// crumbs sets the trail under the title: [[text, href], …, text].
export function crumbs(items) {
    const ol = document.getElementById("crumbs");
    replace(ol, items.map(it => Array.isArray(it)
        ? h("li", {}, h("a", { href: it[1] }, it[0]))
        : h("li", { "aria-current": "page" }, it)));
}

// section is a titled part of a page.
export function section(title, ...children) {
    const id = "s-" + title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

// debounce runs fn at most once per ms, after the last call.
export function debounce(fn, ms) {
    let t = null;
    const d = () => {
        clearTimeout(t);
        t = setTimeout(fn, ms);
    };
    d.cancel = () => clearTimeout(t);
    return d;
}

// pre shows agent-written text (a prompt, a result) as text.
export function pre(text, label) {
    return h("pre", { class: "text", tabindex: "0", "aria-label": label }, text || "");
}
