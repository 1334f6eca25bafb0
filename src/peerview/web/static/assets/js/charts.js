// Small accessible SVG charts (no library): a column chart, a line chart over time and a
// horizontal bar chart. Each is a <figure> with a caption, an SVG with role="img" and an
// aria-label that says what it shows, and the same figures as a table under "Show the data".
// Styling comes from app.css (.chart .bar .line .point .axis); only geometry is set here.

import { h } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 240;

/** The drawing's width: narrower on a phone, so its text stays readable when scaled down. */
function chartWidth() {
  return Math.round(Math.min(600, Math.max(300, (window.innerWidth || 600) - 64)));
}
const PAD = { top: 20, right: 16, bottom: 40, left: 56 };

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const plain = (value) => (value === null || value === undefined ? "—" : String(value));

/** A "nice" top of the value axis: 1, 2, 5 or 10 times a power of ten, at least `max`. */
function niceTop(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 4, 5, 6, 8, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

/** The figure around a chart: caption, the SVG (or "No data yet"), the data table. */
function figure({ title, description, data, columns, body }) {
  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const caption = h("figcaption", { id: `${id}-caption` }, title,
    description ? h("span", { class: "chart-note" }, description) : null);
  if (!data.length) {
    return h("figure", { class: "chart-figure card", "aria-labelledby": `${id}-caption` },
      caption, h("p", { class: "empty" }, "No data yet"));
  }
  const table = h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, title),
    h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, data.map((item) =>
      h("tr", {}, h("th", { scope: "row" }, item.label), h("td", {}, item.text ?? plain(item.value))))),
  );
  return h(
    "figure",
    { class: "chart-figure card", "aria-labelledby": `${id}-caption`, dataset: { points: data.length } },
    caption,
    body,
    h("details", { class: "chart-data" }, h("summary", {}, "Show the data"), h("div", { class: "table-wrap" }, table)),
  );
}

function summary(title, data, unit = "") {
  const parts = data.map((item) => `${item.label}: ${item.text ?? plain(item.value)}${unit}`);
  return `${title}. ${parts.join("; ")}.`;
}

function valueAxis(root, top, plotHeight, format, outer) {
  // The middle line only where it falls on a whole number (counts) or the scale is fixed.
  const fractions = Number.isInteger(top / 2) || !Number.isInteger(top) ? [0, 0.5, 1] : [0, 1];
  for (const fraction of fractions) {
    const y = PAD.top + plotHeight * (1 - fraction);
    root.append(
      svg("line", { class: fraction === 0 ? "axis" : "axis grid", x1: PAD.left, x2: outer - PAD.right, y1: y, y2: y }),
      svg("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, format(top * fraction)),
    );
  }
}

/** Show at most about 12 category labels under the axis (every n-th when there are more). */
function labelEvery(count) {
  return Math.max(1, Math.ceil(count / 12));
}

function shortLabel(text, max = 14) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const integerFormat = (value) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

/**
 * A column chart: `data` is [{label, value, text?}] (value a number; `text` how to print it).
 * `max` fixes the top of the axis (a rate of 100, a rating of 5); `unit` follows each value.
 */
export function barChart({ title, description, data, valueName = "Value", max, unit = "", format = integerFormat }) {
  const outer = chartWidth();
  const width = outer - PAD.left - PAD.right;
  const height = HEIGHT - PAD.top - PAD.bottom;
  const top = max ?? niceTop(Math.max(0, ...data.map((item) => item.value || 0)));
  const root = svg("svg", {
    class: "chart chart-bars", viewBox: `0 0 ${outer} ${HEIGHT}`, role: "img",
    "aria-label": summary(title, data, unit), focusable: "false",
  });
  valueAxis(root, top, height, (v) => `${format(v)}${unit}`, outer);
  const slot = width / Math.max(1, data.length);
  const barWidth = Math.min(64, slot * 0.7);
  const every = labelEvery(data.length);
  data.forEach((item, index) => {
    const value = item.value || 0;
    const barHeight = top ? (height * Math.min(value, top)) / top : 0;
    const x = PAD.left + slot * index + (slot - barWidth) / 2;
    const y = PAD.top + height - barHeight;
    const rect = svg("rect", { class: "bar", x, y, width: barWidth, height: Math.max(barHeight, 0), "data-value": value },
      svg("title", {}, `${item.label}: ${item.text ?? plain(item.value)}${unit}`));
    root.append(rect);
    if (barHeight >= 0 && slot >= 28) {
      root.append(svg("text", { class: "value-label", x: x + barWidth / 2, y: y - 4, "text-anchor": "middle" },
        `${item.text ?? plain(item.value)}${unit}`));
    }
    if (index % every === 0) {
      root.append(svg("text", { x: PAD.left + slot * index + slot / 2, y: HEIGHT - PAD.bottom + 16, "text-anchor": "middle" },
        shortLabel(item.label, Math.max(4, Math.floor(slot / 7)))));
    }
  });
  return figure({ title, description, data: data.map((d) => ({ ...d, text: `${d.text ?? plain(d.value)}${unit}` })), columns: ["", valueName], body: root });
}

/** A line chart over time: `data` is [{label, value}] in time order, one point each. */
export function lineChart({ title, description, data, valueName = "Value", unit = "", format = integerFormat }) {
  const outer = chartWidth();
  const width = outer - PAD.left - PAD.right;
  const height = HEIGHT - PAD.top - PAD.bottom;
  const top = niceTop(Math.max(0, ...data.map((item) => item.value || 0)));
  const root = svg("svg", {
    class: "chart chart-line", viewBox: `0 0 ${outer} ${HEIGHT}`, role: "img",
    "aria-label": summary(title, data, unit), focusable: "false",
  });
  valueAxis(root, top, height, (v) => `${format(v)}${unit}`, outer);
  const inset = 28; // room for the first and last labels
  const step = data.length > 1 ? (width - 2 * inset) / (data.length - 1) : 0;
  const points = data.map((item, index) => {
    const x = data.length > 1 ? PAD.left + inset + step * index : PAD.left + width / 2;
    const y = PAD.top + height - (height * (item.value || 0)) / top;
    return [x, y];
  });
  if (points.length > 1) {
    root.append(svg("polyline", { class: "line", points: points.map(([x, y]) => `${x},${y}`).join(" ") }));
  }
  const every = labelEvery(data.length);
  data.forEach((item, index) => {
    const [x, y] = points[index];
    root.append(svg("circle", { class: "point", cx: x, cy: y, r: 4, "data-value": item.value ?? "" },
      svg("title", {}, `${item.label}: ${item.text ?? plain(item.value)}${unit}`)));
    if (index % every === 0) {
      root.append(svg("text", { x, y: HEIGHT - PAD.bottom + 16, "text-anchor": "middle" }, item.label));
    }
  });
  return figure({ title, description, data: data.map((d) => ({ ...d, text: `${d.text ?? plain(d.value)}${unit}` })), columns: ["", valueName], body: root });
}

/**
 * Horizontal bars, one row per item (categories, rubric ratings): `max` is the scale's top
 * (5 for a rating). An item whose value is null is drawn empty and printed "no ratings".
 */
export function hbarChart({ title, description, data, valueName = "Value", max, unit = "", format = (v) => String(v) }) {
  const outer = chartWidth();
  const row = 30;
  const labelWidth = outer < 450 ? 110 : 150;
  const right = 56;
  const height = PAD.top + row * data.length + 8;
  const top = max ?? niceTop(Math.max(0, ...data.map((item) => item.value || 0)));
  const width = outer - labelWidth - right;
  const texts = data.map((item) => ({
    ...item,
    text: item.text ?? (item.value === null || item.value === undefined ? "no ratings" : `${format(item.value)}${unit}`),
  }));
  const root = svg("svg", {
    class: "chart chart-hbars", viewBox: `0 0 ${outer} ${height}`, role: "img",
    "aria-label": summary(title, texts), focusable: "false",
  });
  root.append(svg("line", { class: "axis", x1: labelWidth, x2: labelWidth, y1: PAD.top - 6, y2: height - 4 }));
  texts.forEach((item, index) => {
    const y = PAD.top + row * index;
    const barWidth = top ? (width * Math.min(item.value || 0, top)) / top : 0;
    root.append(
      svg("text", { x: labelWidth - 8, y: y + row / 2, "text-anchor": "end" }, shortLabel(item.label, Math.floor(labelWidth / 7))),
      svg("rect", { class: "bar", x: labelWidth, y: y + 4, width: barWidth, height: row - 12, "data-value": item.value ?? "" },
        svg("title", {}, `${item.label}: ${item.text}`)),
      svg("text", { class: "value-label", x: labelWidth + barWidth + 6, y: y + row / 2 }, item.text),
    );
  });
  return figure({ title, description, data: texts, columns: ["", valueName], body: root });
}

/** A row of figures: [{label, value, hint?}] as stat tiles. */
export function statTiles(items) {
  return h(
    "dl",
    { class: "stats" },
    items.map(({ label, value, hint }) =>
      h("div", { class: "stat" },
        h("dt", {}, label),
        h("dd", { class: "value" }, plain(value)),
        hint ? h("dd", { class: "hint" }, hint) : null)),
  );
}

/** A rate as a percentage with no decimals ("—" when there is nothing to divide). */
export function percent(part, whole) {
  return whole ? Math.round((100 * part) / whole) : null;
}
