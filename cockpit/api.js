// api.js speaks herdctl's D-Bus API (dev.herdctl.Manager1 on the system
// bus), the same one herdctlctl speaks, as the logged-in user: the
// daemon checks that user's uid for every call that changes anything.
// The page has no other way to the fleet.

const cockpit = window.cockpit;

export const BUS = "dev.herdctl.Manager1";
export const PATH = "/dev/herdctl/Manager1";
export const IFACE = "dev.herdctl.Manager1";
// The group whose members may see and steer the fleet (service/api's
// AdminGroup; api_test.go checks the two agree).
export const GROUP = "herdctl";

let client = null;

function bus() {
    if (!client) {
        client = cockpit.dbus(BUS, { bus: "system" });
        client.addEventListener("close", () => { client = null });
    }
    return client;
}

// plain turns cockpit's D-Bus JSON ({t, v} variants, nested) into plain
// values.
export function plain(x) {
    if (Array.isArray(x))
        return x.map(plain);
    if (x && typeof x === "object") {
        const keys = Object.keys(x);
        if (keys.length === 2 && typeof x.t === "string" && "v" in x)
            return plain(x.v);
        const out = {};
        for (const k of keys)
            out[k] = plain(x[k]);
        return out;
    }
    return x;
}

// The a{sv} types of the fields the page sends (service/api's JSON names;
// Go ints are "x", times and durations microseconds as "t").
const types = {
    agent: "s", status: "s", session: "s", limit: "x", offset: "x", since: "t",
    queue: "b", resume: "s", job: "s", after_cursor: "s", lines: "x",
};

function dict(o) {
    const out = {};
    for (const [k, v] of Object.entries(o || {})) {
        if (v === undefined || v === null || v === "" || v === false)
            continue;
        if (!(k in types))
            throw new Error("api: no D-Bus type for " + k);
        out[k] = { t: types[k], v: types[k] === "t" ? Math.round(v) : v };
    }
    return out;
}

function call(method, args, signature) {
    return bus().call(PATH, IFACE, method, args || [], signature ? { type: signature } : {})
            .then(reply => plain(reply[0]));
}

export const status = () => call("GetStatus");
export const agents = () => call("ListAgents");
export const agent = name => call("GetAgent", [name], "s");
export const show = name => call("ShowAgent", [name], "s");
export const jobs = filter => call("ListJobs", [dict(filter)], "a{sv}");
export const job = id => call("GetJob", [id], "s");
export const sessions = name => call("ListSessions", [name], "s");
export const cost = filter => call("GetCost", [dict(filter)], "a{sv}");
export const journal = query => call("ReadJournal", [dict(query)], "a{sv}");
export const trigger = (name, schedule, prompt, options) =>
    call("Trigger", [name, schedule || "", prompt || "", dict(options)], "sssa{sv}");
export const cancel = id => call("Cancel", [id], "s");
export const setEnabled = (name, enabled) => call(enabled ? "Enable" : "Disable", [name], "s");

// subscribe calls fn(signal, args) for each of the daemon's signals
// (JobStarted, JobFinished, Reloaded) and property changes; it returns
// the function that stops it.
export function subscribe(fn) {
    const subs = [
        bus().subscribe({ path: PATH, interface: IFACE }, (path, iface, signal, args) => fn(signal, args)),
        bus().subscribe({ path: PATH, interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged" },
                        () => fn("PropertiesChanged", [])),
    ];
    return () => subs.forEach(x => x.remove());
}

// who is the logged-in user and whether they may see the fleet: root, or
// a member of group herdctl in this login session (Cockpit's superuser
// is never asked for).
export function who() {
    return cockpit.user().then(u => ({
        name: u.name,
        id: u.id,
        allowed: u.id === 0 || (u.groups || []).includes(GROUP),
    }));
}

// entryText is a journal field's text: journalctl -o json writes a
// field that is not valid UTF-8 as an array of bytes.
export function entryText(v) {
    if (Array.isArray(v))
        return new TextDecoder("utf-8", { fatal: false }).decode(new Uint8Array(v));
    return v === undefined || v === null ? "" : String(v);
}

// The job statuses (package state owns them).
export const finished = st => ["completed", "failed", "cancelled", "timed_out", "skipped"].includes(st);
