// format.js writes times, durations and money as herdctlctl does.

// date is a D-Bus time (microseconds since the epoch; 0 for none).
export function date(us) {
    return us ? new Date(us / 1000) : null;
}

export function stamp(us) {
    const d = date(us);
    if (!d)
        return "–";
    const pad = n => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// span writes milliseconds as 4s, 3m12s, 2h05m, 3d4h.
export function span(ms) {
    if (ms === null || ms === undefined || isNaN(ms))
        return "–";
    const s = Math.round(Math.abs(ms) / 1000);
    if (s < 60)
        return s + "s";
    if (s < 3600)
        return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
    if (s < 86400)
        return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d" + Math.floor(s % 86400 / 3600) + "h";
}

// relative writes a time as "in 5m00s" or "3m12s ago".
export function relative(us, now) {
    const d = date(us);
    if (!d)
        return "–";
    const ms = d.getTime() - (now || Date.now());
    return ms >= 0 ? "in " + span(ms) : span(ms) + " ago";
}

// spent is what a job cost as budgets and herdctlctl count it (state's
// Job.Spent): the larger of Claude Code's report and the relay's metering.
export function spent(j) {
    return Math.max(j.cost_usd || 0, j.api_cost_usd || 0);
}

// money is dollars with four decimals, as herdctlctl cost prints them.
export function money(usd) {
    return "$" + (usd || 0).toFixed(4);
}

export function tokens(n) {
    return (n || 0).toLocaleString("en-US");
}

// duration is a job's run time: its record's, or since it started.
export function duration(j, now) {
    if (j.duration_ms)
        return span(j.duration_ms);
    if (j.started && !j.finished)
        return span((now || Date.now()) - j.started / 1000);
    return "–";
}

// day is a local calendar day as herdctl's cost pools write it.
export function day(d) {
    const pad = n => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// every writes an interval schedule's period (microseconds).
export function every(us) {
    return "every " + span(us / 1000);
}

// short cuts text to n characters on one line.
export function short(text, n) {
    const one = String(text || "").replace(/\s+/g, " ").trim();
    return one.length > n ? one.slice(0, n - 1) + "…" : one;
}
