// dom.js builds the page from DOM nodes only. Every string an agent may
// have written (names, descriptions, prompts, results, output) reaches
// the page as a text node: nothing here parses HTML, and nothing else in
// the page may either (cockpit_test.go checks that no file uses
// innerHTML, outerHTML, insertAdjacentHTML, document.write or eval).

const SVG = "http://www.w3.org/2000/svg";

// append adds children: nodes as they are, strings and numbers as text,
// arrays flattened, null/undefined/false skipped.
function append(el, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false)
            continue;
        if (Array.isArray(c))
            append(el, c);
        else if (c instanceof Node)
            el.appendChild(c);
        else
            el.appendChild(document.createTextNode(String(c)));
    }
    return el;
}

function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === null || v === undefined || v === false)
            continue;
        if (k === "on") {
            for (const [ev, fn] of Object.entries(v))
                el.addEventListener(ev, fn);
        } else if (k.startsWith("on")) {
            // Handlers are functions passed in "on", never attribute text.
            throw new Error("dom: use on: {event: fn} for " + k);
        } else if (k === "style") {
            throw new Error("dom: inline styles are refused by the content security policy; use a class");
        } else {
            el.setAttribute(k, v === true ? "" : String(v));
        }
    }
}

// h makes an HTML element: h("a", {href: "#/"}, "text", child…).
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    return append(el, children);
}

// s makes an SVG element.
export function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    return append(el, children);
}

// replace puts children in place of what el holds.
export function replace(el, ...children) {
    el.replaceChildren();
    return append(el, children);
}

// table makes a table with a caption (for screen readers), a header row
// and rows of cells; a row may be a <tr> made by the caller. Each cell
// carries its column's name (data-label), which a phone's width shows
// beside it when the rows become cards.
export function table(caption, head, rows, empty) {
    if (rows.length === 0 && empty)
        return h("p", { class: "muted" }, empty);
    return h("div", { class: "table-wrap" },
             h("table", {},
               h("caption", { class: caption.visible ? "" : "sr-only" }, caption.text || caption),
               h("thead", {}, h("tr", {}, head.map(x => h("th", { scope: "col" }, x)))),
               h("tbody", {}, rows.map(r => r instanceof Node ? r : h("tr", {}, r.map((c, i) => h("td", { "data-label": head[i] }, c)))))));
}

// dl makes a definition list of [term, value] pairs, skipping empty values.
export function dl(pairs) {
    const out = h("dl", { class: "fields" });
    for (const [k, v] of pairs) {
        if (v === null || v === undefined || v === "")
            continue;
        out.appendChild(h("div", {}, h("dt", {}, k), h("dd", {}, v)));
    }
    return out;
}

// link is an in-page link to a route: link(["agent", name], "text").
export function link(path, text, options) {
    return h("a", { href: href(path, options) }, text);
}

// href is the address of a route, as cockpit.location understands it.
export function href(path, options) {
    let q = "";
    if (options) {
        const parts = Object.entries(options).filter(([, v]) => v)
                .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v));
        if (parts.length)
            q = "?" + parts.join("&");
    }
    return "#/" + path.map(encodeURIComponent).join("/") + q;
}
