// chart.js draws the overview's chart: cost (bars) and jobs (a line) per
// day, as SVG built node by node.

import { s, h } from "./dom.js";
import { money } from "./format.js";

// costChart draws days [{day, cost, jobs}], oldest first.
export function costChart(days) {
    const W = 720, H = 220, L = 56, R = 44, T = 16, B = 40;
    const iw = W - L - R, ih = H - T - B;
    const costStep = niceStep(Math.max(...days.map(d => d.cost)) / 4, 0.0025);
    const maxCost = costStep * 4;
    const maxJobs = Math.max(4, Math.ceil(Math.max(...days.map(d => d.jobs)) / 4) * 4);
    let decimals = 2;
    while (decimals < 4 && Math.abs(Number(costStep.toFixed(decimals)) - costStep) > 1e-9)
        decimals++;
    const step = iw / days.length;
    const total = days.reduce((a, d) => a + d.cost, 0);
    const jobs = days.reduce((a, d) => a + d.jobs, 0);
    const summary = `Cost and jobs per day over the last ${days.length} days: ${money(total)} in ${jobs} jobs.`;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": "chart-title chart-desc" },
                  s("title", { id: "chart-title" }, "Cost and jobs per day"),
                  s("desc", { id: "chart-desc" }, summary));
    // Grid and left axis (cost).
    for (let i = 0; i <= 4; i++) {
        const y = T + ih - ih * i / 4;
        svg.appendChild(s("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
        svg.appendChild(s("text", { x: L - 6, y: y + 4, class: "axis", "text-anchor": "end" }, "$" + (costStep * i).toFixed(decimals)));
        svg.appendChild(s("text", { x: W - R + 6, y: y + 4, class: "axis jobs-axis" }, String(maxJobs * i / 4)));
    }
    const points = [];
    days.forEach((d, i) => {
        const x = L + i * step;
        const bh = ih * d.cost / maxCost;
        svg.appendChild(s("rect", { x: x + step * 0.15, y: T + ih - bh, width: step * 0.7, height: Math.max(bh, 0), class: "bar" },
                          s("title", {}, `${d.day}: ${money(d.cost)}, ${d.jobs} jobs`)));
        points.push(`${x + step / 2},${T + ih - ih * d.jobs / maxJobs}`);
        if (i % 2 === days.length % 2 || days.length <= 7)
            svg.appendChild(s("text", { x: x + step / 2, y: H - B + 16, class: "axis", "text-anchor": "middle" }, d.day.slice(5)));
    });
    svg.appendChild(s("polyline", { points: points.join(" "), class: "jobs-line" }));
    days.forEach((d, i) => svg.appendChild(s("circle", { cx: L + i * step + step / 2, cy: T + ih - ih * d.jobs / maxJobs, r: 3, class: "jobs-dot" })));
    const legend = h("p", { class: "legend" },
                     h("span", { class: "key key-cost" }), " cost (left axis)  ",
                     h("span", { class: "key key-jobs" }), " jobs (right axis)");
    return h("figure", { class: "chart-wrap" }, svg, legend, h("figcaption", { class: "sr-only" }, summary));
}

// niceStep rounds a tick step up to 1, 2 or 5 times a power of ten, and
// to at least min (an empty chart still has a scale).
function niceStep(raw, min) {
    const x = Math.max(raw, min);
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    for (const m of [1, 2, 2.5, 5, 10]) {
        if (m * p >= x - 1e-12)
            return m * p;
    }
    return 10 * p;
}

// lastDays sums cost rows [{day, jobs, cost_usd}] into n days ending today.
export function lastDays(rows, n, dayOf) {
    const out = [];
    const today = new Date();
    for (let i = n - 1; i >= 0; i--) {
        const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i);
        out.push({ day: dayOf(d), cost: 0, jobs: 0 });
    }
    const byDay = new Map(out.map(d => [d.day, d]));
    for (const r of rows) {
        const d = byDay.get(r.day);
        if (d) {
            d.cost += r.cost_usd || 0;
            d.jobs += r.jobs || 0;
        }
    }
    return out;
}
