// consortium-sim's web app: one page whose views (Scenarios, Editor, Run, Results,
// History, Compare, Sweep, Sensitivity, Agreement) are drawn here from the server's JSON API.
// User text only ever goes into the page as text (textContent), never as markup, and
// the Content-Security-Policy allows no other script than this file.
"use strict";

const view = () => document.getElementById("view");

// An element: h("td", {class: "num"}, "text", child, ...). Strings become text nodes.
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "value") e.value = v;
    else if (k === "checked") e.checked = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function show(...children) {
  const v = view();
  // As h() does: an absent part (null, false) is skipped, not shown as the word.
  v.replaceChildren(...children.filter((c) => c !== undefined && c !== null && c !== false));
}

async function api(method, url, body, raw) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = raw ? body : JSON.stringify(body);
    init.headers["Content-Type"] = raw ? "application/octet-stream" : "application/json";
  }
  const r = await fetch(url, init);
  const type = r.headers.get("Content-Type") || "";
  const data = type.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    const e = new Error((data && data.error) || String(data) || r.statusText);
    e.data = data;
    throw e;
  }
  return data;
}

function money(x, currency) {
  const sign = x < 0 ? "-" : "";
  return sign + (currency ?? "£") + Math.round(Math.abs(x)).toLocaleString("en-GB");
}

// A kept run's time (UTC, RFC 3339) in the browser's own time zone.
function when(created) {
  const t = new Date(created);
  return isNaN(t) ? created : t.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

function percent(p) {
  return (100 * p).toFixed(1) + "%";
}

// An error's message; only its first line ("x.xlsx has 2 problems:") when its problems
// are listed beneath it, which the rest of the message would say again on one line.
function failed(e, listed) {
  const text = listed ? e.message.split("\n")[0] : e.message;
  return h("p", { class: "error", role: "alert" }, "Error: " + text);
}

// ---- Scenarios --------------------------------------------------------------------

async function scenariosView() {
  const list = await api("GET", "/api/scenarios");
  const upload = h("input", { type: "file", accept: ".json,.xlsx,application/json," + XLSX, id: "upload" });
  const message = h("p", { class: "status", id: "upload-status" });
  // The file's bytes as they are (a workbook is binary); the server keeps a workbook
  // as JSON under its base name, which the list then shows.
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (!file) return;
    // NFC: a name typed on a Mac reaches the browser as letters and separate accents
    // ("e" then U+0301), which the server's name check (letters, digits, some
    // punctuation) would refuse; composed, "é" is one letter.
    const url = "/api/upload/" + encodeURIComponent(file.name.normalize("NFC"));
    try {
      let r;
      try {
        r = await api("POST", url, file, true);
      } catch (e) {
        // A scenario of that name is there already: replace it only if the user says so.
        if (!(e.data && e.data.exists)) throw e;
        if (!window.confirm("Replace " + e.data.exists + " with " + file.name + "?")) {
          message.textContent = "Kept " + e.data.exists + " as it was; " + file.name + " was not uploaded.";
          return;
        }
        r = await api("POST", url + "?replace=1", file, true);
      }
      await scenariosView();
      document.getElementById("upload-status").replaceChildren("Saved " + file.name + " as " + r.saved + " in " + list.folder + ".",
        toldList(r.notices, "upload-notices") || "");
    } catch (e) {
      const problems = e.data && e.data.problems && e.data.problems.length ? e.data.problems : null;
      message.replaceChildren(failed(e, problems));
      if (problems) message.append(problemList(problems));
      if (e.data) message.append(toldList(e.data.notices, "upload-notices") || "");
    }
  });
  const rows = list.scenarios.map((s) =>
    h("tr", {},
      h("td", {}, s.title || "(no name)"),
      h("td", {}, s.file, " ", s.shipped ? h("span", { class: "badge" }, "shipped") : null),
      h("td", {},
        h("a", { class: "button", href: "#/edit/" + encodeURIComponent(s.file) }, "Edit"), " ",
        h("a", { class: "button", href: "#/run/" + encodeURIComponent(s.file) }, "Run"), " ",
        h("a", { class: "button", href: "/api/scenarios/" + encodeURIComponent(s.file), download: s.file }, "JSON"), " ",
        h("a", { class: "button", href: "/api/scenarios/" + encodeURIComponent(s.file) + "/xlsx", download: s.file.replace(/\.json$/, ".xlsx"), "data-xlsx": s.file }, "Excel"))));
  show(
    h("h1", {}, "Scenarios"),
    h("p", { class: "note" }, "Shipped examples cannot be overwritten: edit one and save it under a new name. Your scenarios are kept in ", h("code", {}, list.folder), "."),
    h("div", { class: "row" },
      h("a", { class: "button", href: "#/edit/new" }, "New from the template"),
      h("label", {}, "Upload a scenario (.json or .xlsx): ", upload)),
    message,
    h("table", { id: "scenarios" }, h("thead", {}, h("tr", {}, h("th", {}, "Scenario"), h("th", {}, "File"), h("th", {}, ""))), h("tbody", {}, rows)));
}

// A problem named as the command line names it: by cell for a workbook's, with the
// field's pointer.
function where(p) {
  if (p.cell) return p.path ? `${p.cell} (${p.path})` : p.cell;
  return p.path || "(top level)";
}

function problemList(problems) {
  return h("ul", { class: "problem" }, problems.map((p) => h("li", {}, where(p) + ": " + p.message)));
}

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// Saves `blob` as a file named `name` (the editor's draft as a workbook, made by a POST).
function saveAs(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- The schema -------------------------------------------------------------------

let SCHEMA = null;

async function schema() {
  if (!SCHEMA) SCHEMA = await api("GET", "/api/schema");
  return SCHEMA;
}

// The schema behind $ref, with the referring title and description kept.
function resolve(s) {
  let { title, description } = s;
  while (s && s.$ref) {
    s = SCHEMA.$defs[s.$ref.split("/").pop()];
    description = description || s.description;
  }
  return Object.assign({}, s, { title, description });
}

// A field that takes a number or a distribution: [number schema, distribution forms].
function uncertain(s) {
  if (!s.oneOf || s.oneOf.length !== 2) return null;
  const [a, b] = s.oneOf.map(resolve);
  if (!(a.type === "number" || a.type === "integer") || !b.oneOf) return null;
  const forms = b.oneOf.map((f) => ({ key: f.required[0], schema: f, description: f.description }));
  return { number: a, forms };
}

// ---- Densities, drawn as small SVG plots ------------------------------------------

function density(value) {
  if (value === undefined || value === null || typeof value === "number") return null;
  const [form, p] = Object.entries(value)[0] || [];
  const lgamma = (z) => { // Lanczos
    const g = 7, c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999185, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
    z -= 1; let x = c[0];
    for (let i = 1; i < g + 2; i++) x += c[i] / (z + i);
    const t = z + g + 0.5;
    return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
  };
  switch (form) {
    case "uniform": { const [a, b] = p; if (!(b > a)) return null; return { lo: a, hi: b, f: (x) => (x >= a && x <= b ? 1 / (b - a) : 0) }; }
    case "triangular": { const [a, m, b] = p; if (!(b > a)) return null;
      return { lo: a, hi: b, f: (x) => x < a || x > b ? 0 : x <= m ? (m > a ? 2 * (x - a) / ((b - a) * (m - a)) : 2 / (b - a)) : (b > m ? 2 * (b - x) / ((b - a) * (b - m)) : 2 / (b - a)) }; }
    case "pert": { const [a, m, b] = p; if (!(b > a)) return null;
      const al = 1 + 4 * (m - a) / (b - a), be = 1 + 4 * (b - m) / (b - a);
      const lb = lgamma(al) + lgamma(be) - lgamma(al + be);
      return { lo: a, hi: b, f: (x) => { const u = (x - a) / (b - a); if (u <= 0 || u >= 1) return 0; return Math.exp((al - 1) * Math.log(u) + (be - 1) * Math.log(1 - u) - lb) / (b - a); } }; }
    case "normal": { const [mu, sd] = p; if (!(sd > 0)) return null;
      return { lo: mu - 3.5 * sd, hi: mu + 3.5 * sd, f: (x) => Math.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI)) }; }
    case "lognormal": { const { mean, sd } = p || {}; if (!(mean > 0 && sd > 0)) return null;
      const s2 = Math.log(1 + (sd / mean) ** 2), mu = Math.log(mean) - s2 / 2, s = Math.sqrt(s2);
      return { lo: 0, hi: Math.exp(mu + 3.5 * s), f: (x) => x <= 0 ? 0 : Math.exp(-((Math.log(x) - mu) ** 2) / (2 * s2)) / (x * s * Math.sqrt(2 * Math.PI)) }; }
    case "discrete": { if (!Array.isArray(p) || !p.length) return null;
      const xs = p.map((q) => q[0]); const lo = Math.min(...xs), hi = Math.max(...xs);
      return { lo: lo - 0.5 * ((hi - lo) || 1), hi: hi + 0.5 * ((hi - lo) || 1), points: p }; }
  }
  return null;
}

function plot(value) {
  const d = density(value);
  const W = 120, H = 36, NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "density"); svg.setAttribute("width", W); svg.setAttribute("height", H);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  if (!d) { svg.setAttribute("visibility", "hidden"); return svg; }
  const x = (v) => 2 + (W - 4) * (v - d.lo) / (d.hi - d.lo);
  if (d.points) {
    const total = d.points.reduce((s, q) => s + q[1], 0) || 1;
    for (const [v, w] of d.points) {
      const line = document.createElementNS(NS, "line");
      line.setAttribute("x1", x(v)); line.setAttribute("x2", x(v)); line.setAttribute("y1", H - 2);
      line.setAttribute("y2", H - 2 - (H - 6) * w / total); line.setAttribute("stroke", "#1f3a5f"); line.setAttribute("stroke-width", 3);
      svg.append(line);
    }
  } else {
    const n = 60, ys = [];
    for (let i = 0; i <= n; i++) ys.push(d.f(d.lo + (d.hi - d.lo) * i / n));
    const top = Math.max(...ys.filter(Number.isFinite)) || 1;
    const pts = ys.map((y, i) => `${x(d.lo + (d.hi - d.lo) * i / n).toFixed(1)},${(H - 2 - (H - 6) * Math.min(y, top) / top).toFixed(1)}`);
    const path = document.createElementNS(NS, "polyline");
    path.setAttribute("points", `${x(d.lo)},${H - 2} ${pts.join(" ")} ${x(d.hi)},${H - 2}`);
    path.setAttribute("fill", "#b9cbe3"); path.setAttribute("stroke", "#1f3a5f");
    svg.append(path);
  }
  return svg;
}

// ---- The editor: a form for every field of the schema -----------------------------

// The draft being edited, and how it is named and saved.
let DRAFT = null;

function getAt(path) {
  let v = DRAFT;
  for (const k of path) { if (v === undefined || v === null) return undefined; v = v[k]; }
  return v;
}

function setAt(path, value) {
  let v = DRAFT;
  for (const k of path.slice(0, -1)) {
    if (v[k] === undefined) v[k] = {};
    v = v[k];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete v[last]; else v[last] = value;
  changed();
}

const pointer = (path) => "/" + path.join("/");

// Boxes of the draft whose text is not a number the scenario can hold, by pointer,
// with what is wrong: shown beside the field with the validator's problems, and
// keeping Save and Run disabled. The draft itself is left as it was, never given a
// 0 or a default in place of what was typed.
const UNREADABLE = new Map();

// What a number box holds: a number, `undefined` for an empty box that may be empty
// (an optional field: its default), or `null` once the problem is recorded.
function readBox(e, path, { required = false, integer = false } = {}) {
  const at = pointer(path);
  const box = e.target;
  let problem = null;
  if ((box.validity && box.validity.badInput) || !Number.isFinite(Number(box.value))) problem = "not a number: type digits only (for example 250000 or 2.5e5)";
  else if (box.value === "" && required) problem = "empty: every parameter of a distribution needs a number";
  else if (integer && box.value !== "" && !Number.isSafeInteger(Number(box.value))) {
    problem = Number.isInteger(Number(box.value))
      ? "above 9,007,199,254,740,991, more than a browser holds exactly: choose a smaller number, or edit the file itself"
      : "must be a whole number";
  }
  if (problem) { UNREADABLE.set(at, problem); changed(); return null; }
  UNREADABLE.delete(at);
  return box.value === "" ? undefined : Number(box.value);
}

// The whole number in a form's box (trials, seed), named `label` in the problem it
// throws for an empty box, text that is not a number, or a number above 2^53 - 1,
// which a browser cannot hold exactly and would send changed.
function wholeBox(box, label) {
  if ((box.validity && box.validity.badInput) || box.value === "") {
    throw new Error(`${label}: ${box.value === "" && !(box.validity && box.validity.badInput) ? "the box is empty" : "not a number"}: type a whole number`);
  }
  const n = Number(box.value);
  if (!Number.isInteger(n)) throw new Error(`${label}: ${box.value} is not a whole number`);
  if (!Number.isSafeInteger(n)) throw new Error(`${label}: ${box.value} is above 9,007,199,254,740,991, more than a browser holds exactly: choose a smaller number`);
  return n;
}

// The seed a job asks for: none (the scenario's own, exactly as its file has it) while
// the box still shows the scenario's seed, else the box's whole number.
function seedOf(box, scenarioSeed) {
  if (scenarioSeed !== undefined && box.value === String(scenarioSeed)) return undefined;
  return wholeBox(box, "Seed");
}

// Forgets the recorded problems of the boxes at and below `path` (their form changed).
function forgetBoxes(path) {
  const at = pointer(path);
  for (const k of [...UNREADABLE.keys()]) if (k === at || k.startsWith(at + "/")) UNREADABLE.delete(k);
}

function numberInput(s, value, path, placeholder) {
  return h("input", {
    type: "number", step: "any", value: value === undefined ? "" : value,
    placeholder: placeholder, "data-input": pointer(path),
    oninput: (e) => { const v = readBox(e, path, { integer: s.type === "integer" }); if (v !== null) setAt(path, v); },
  });
}

// A number-or-distribution field: a list of forms, its parameters, its density.
function uncertainWidget(u, value, path, required, def) {
  const box = h("span", { class: "uncertain" });
  const forms = u.forms.map((f) => f.key);
  const current = value === undefined ? "" : typeof value === "number" ? "number" : Object.keys(value)[0];
  const select = h("select", { "data-form": pointer(path) },
    required ? null : h("option", { value: "" }, def === undefined ? "(default)" : `(default: ${JSON.stringify(def)})`),
    h("option", { value: "number" }, "a number"),
    forms.map((k) => h("option", { value: k }, k)));
  select.value = current;
  const params = h("span", { class: "params" });
  const svg = h("span", {}, plot(value));
  const redraw = () => svg.replaceChildren(plot(getAt(path)));
  const draw = () => {
    const v = getAt(path);
    const form = select.value;
    params.replaceChildren();
    if (form === "number") {
      params.append(h("input", { type: "number", step: "any", value: typeof v === "number" ? v : "", "data-input": pointer(path),
        oninput: (e) => { const x = readBox(e, path); if (x !== null) { setAt(path, x); redraw(); } } }));
    } else if (form === "lognormal") {
      const p = (v && v.lognormal) || {};
      for (const key of ["mean", "sd"]) {
        params.append(h("label", { class: "param" }, key, h("input", { type: "number", step: "any", value: p[key] === undefined ? "" : p[key], "data-input": pointer(path.concat(["lognormal", key])),
          oninput: (e) => { const x = readBox(e, path.concat(["lognormal", key]), { required: true }); if (x === null) return; const q = Object.assign({}, (getAt(path) || {}).lognormal); q[key] = x; setAt(path, { lognormal: q }); redraw(); } })));
      }
    } else if (form === "discrete") {
      params.append(h("textarea", { "data-input": pointer(path.concat(["discrete"])), placeholder: "[[value, weight], ...]",
        oninput: (e) => { try { setAt(path, { discrete: JSON.parse(e.target.value) }); } catch (_) { /* finished typing later */ } redraw(); } },
        JSON.stringify((v && v.discrete) || [[0, 1]])));
    } else if (form === "fixed") {
      params.append(h("input", { type: "number", step: "any", value: v && v.fixed !== undefined ? v.fixed : "", "data-input": pointer(path.concat(["fixed"])),
        oninput: (e) => { const x = readBox(e, path.concat(["fixed"]), { required: true }); if (x !== null) { setAt(path, { fixed: x }); redraw(); } } }));
    } else if (form) {
      const f = u.forms.find((x) => x.key === form);
      const arr = resolve(f.schema.properties[form]);
      const n = arr.maxItems || 2;
      const names = { uniform: ["lo", "hi"], triangular: ["min", "mode", "max"], pert: ["min", "mode", "max"], normal: ["mean", "sd"] }[form] || [];
      const p = (v && Array.isArray(v[form])) ? v[form] : [];
      // Each box says which parameter it is, filled or not (a placeholder vanishes
      // once there is a value).
      for (let i = 0; i < n; i++) {
        params.append(h("label", { class: "param" }, names[i] || "", h("input", { type: "number", step: "any", title: names[i] || "", placeholder: names[i] || "", value: p[i] === undefined ? "" : p[i],
          "data-input": pointer(path.concat([form, i])),
          oninput: (e) => { const x = readBox(e, path.concat([form, i]), { required: true }); if (x === null) return; const q = ((getAt(path) || {})[form] || []).slice(); q[i] = x; setAt(path, { [form]: q }); redraw(); } })));
      }
    }
  };
  select.addEventListener("change", () => {
    const form = select.value, v = getAt(path);
    const mean = typeof v === "number" ? v : 0;
    const start = { number: mean, fixed: { fixed: mean }, uniform: { uniform: [mean, mean] }, triangular: { triangular: [mean, mean, mean] },
      pert: { pert: [mean, mean, mean] }, normal: { normal: [mean, 0] }, lognormal: { lognormal: { mean: mean || 1, sd: 0 } }, discrete: { discrete: [[mean, 1]] } };
    forgetBoxes(path);
    setAt(path, form === "" ? undefined : (form in start ? start[form] : { [form]: [] }));
    draw(); redraw();
  });
  draw();
  box.append(select, params, svg);
  return box;
}

// The widget of any field.
function widget(raw, path, required) {
  const s = resolve(raw);
  const value = getAt(path);
  const u = uncertain(s);
  if (u) return uncertainWidget(u, value, path, required, s.default);
  if (s.type === "number" || s.type === "integer") return numberInput(s, value, path, s.default !== undefined ? "default " + s.default : "");
  if (s.type === "boolean") return h("input", { type: "checkbox", checked: !!value, "data-input": pointer(path), onchange: (e) => setAt(path, e.target.checked) });
  if (s.type === "string") return h("input", { type: "text", value: value || "", placeholder: s.default || "", "data-input": pointer(path), oninput: (e) => setAt(path, e.target.value === "" && !required ? undefined : e.target.value) });
  if (s.type === "array" && s.items && ["number", "integer"].includes(resolve(s.items).type)) {
    return h("input", { type: "text", value: Array.isArray(value) ? value.join(", ") : "", placeholder: s.default ? s.default.join(", ") : "numbers, separated by commas",
      "data-input": pointer(path),
      oninput: (e) => { const t = e.target.value.trim(); setAt(path, t === "" ? undefined : t.split(/[,\s]+/).filter(Boolean).map(Number)); } });
  }
  if (s.oneOf && s.oneOf.every((b) => resolve(b).const !== undefined || resolve(b).oneOf)) {
    // A choice of names (the cost-sharing rule, a named discount schedule), or JSON.
    const names = [];
    const collect = (b) => { b = resolve(b); if (b.const !== undefined) names.push(b.const); else if (b.oneOf) b.oneOf.forEach(collect); };
    s.oneOf.forEach(collect);
    return choiceOrJson(names, value, path, required);
  }
  if (s.oneOf) {
    const names = [];
    const collect = (b) => { b = resolve(b); if (b.const !== undefined) names.push(b.const); else if (b.oneOf) b.oneOf.forEach(collect); };
    s.oneOf.forEach(collect);
    return choiceOrJson(names, value, path, required, s.oneOf.some((b) => resolve(b).type === "number"));
  }
  return jsonBox(value, path);
}

// A field that is one of some names, a number, or else JSON (an agreed weighting, a
// discount schedule by years).
function choiceOrJson(names, value, path, required, number) {
  const box = h("span", { class: "uncertain" });
  const mode = typeof value === "string" ? value : typeof value === "number" ? "number" : value === undefined ? "" : "json";
  const select = h("select", { "data-form": pointer(path) },
    required ? null : h("option", { value: "" }, "(default)"),
    names.map((n) => h("option", { value: n }, n)),
    number ? h("option", { value: "number" }, "a number") : null,
    h("option", { value: "json" }, "other (JSON)"));
  select.value = mode;
  const extra = h("span");
  const draw = () => {
    extra.replaceChildren();
    if (select.value === "number") extra.append(numberInput({}, typeof getAt(path) === "number" ? getAt(path) : undefined, path));
    if (select.value === "json") extra.append(jsonBox(getAt(path), path));
  };
  select.addEventListener("change", () => {
    const m = select.value;
    if (m === "") setAt(path, undefined);
    else if (m !== "number" && m !== "json") setAt(path, m);
    draw();
  });
  draw();
  box.append(select, extra);
  return box;
}

function jsonBox(value, path) {
  return h("textarea", { "data-input": pointer(path), placeholder: "JSON",
    oninput: (e) => { const t = e.target.value.trim(); if (t === "") { setAt(path, undefined); return; } try { setAt(path, JSON.parse(t)); } catch (_) { /* not finished */ } } },
  value === undefined ? "" : JSON.stringify(value));
}

// The first sentence of a field's description (a full stop before a capital or a
// symbol, not the one of "e.g."), for the label; the whole is its tooltip.
function short(description) {
  return (description || "").split(/(?<=[^.][a-z0-9)%"]\.)\s+(?=[A-Z(])/)[0];
}

// One labelled field.
function field(name, propSchema, path, required) {
  const s = resolve(propSchema);
  return h("div", { class: "field", "data-path": pointer(path) },
    h("label", { title: s.description || "" }, s.title || name, s.title ? h("code", { class: "key" }, name) : null,
      h("span", { class: "help" }, short(s.description))),
    h("div", {}, widget(propSchema, path, required), h("div", { class: "problem", "data-problem": pointer(path) })));
}

function section(title, objSchema, path, skip) {
  const s = resolve(objSchema);
  const req = s.required || [];
  return h("fieldset", { "data-path": pointer(path) }, h("legend", {}, title),
    Object.entries(s.properties).filter(([k]) => !(skip || []).includes(k)).map(([k, p]) => field(k, p, path.concat([k]), req.includes(k))),
    h("div", { class: "problem", "data-problem": pointer(path) }));
}

// A list of objects (partners, correlations) as a table, one row each.
function rows(title, arraySchema, path, blank) {
  const items = resolve(resolve(arraySchema).items);
  const req = items.required || [];
  const keys = Object.keys(items.properties);
  const list = getAt(path) || [];
  const body = list.map((_, i) => h("tr", { "data-path": pointer(path.concat([i])) },
    keys.map((k) => h("td", { "data-path": pointer(path.concat([i, k])) }, widget(items.properties[k], path.concat([i, k]), req.includes(k)),
      h("div", { class: "problem", "data-problem": pointer(path.concat([i, k])) }))),
    h("td", {}, h("button", { type: "button", onclick: () => { const l = getAt(path); l.splice(i, 1); setAt(path, l.length ? l : undefined); editorForm(); } }, "Remove"),
      h("div", { class: "problem", "data-problem": pointer(path.concat([i])) }))));
  return h("fieldset", { "data-path": pointer(path), class: "table-wrap" }, h("legend", {}, title),
    h("table", { class: title.toLowerCase() },
      h("thead", {}, h("tr", {}, keys.map((k) => {
        const p = resolve(items.properties[k]);
        return h("th", { title: k + ": " + short(p.description) }, p.title || k, p.title ? h("code", { class: "key" }, k) : null);
      }), h("th", {}, ""))),
      h("tbody", {}, body)),
    h("button", { type: "button", onclick: () => { const l = getAt(path) || []; l.push(blank(l.length)); setAt(path, l); editorForm(); } }, "Add a row"),
    h("div", { class: "problem", "data-problem": pointer(path) }));
}

let EDITING = null; // { file, shipped }
let validateTimer = null;

function changed() {
  if (EDITING) EDITING.saved = false;
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validate, 250);
}

// The message slot beside the field at JSON pointer `at`, or beside the nearest field
// enclosing it; null if there is none.
function slotFor(at) {
  let path = at.split("/").filter(Boolean);
  for (;;) {
    const slot = document.querySelector(`[data-problem="${CSS.escape(pointer(path))}"]`);
    if (slot || path.length === 0) return slot;
    path = path.slice(0, -1);
  }
}

// Shows each problem of the engine's validator beside its field (or the nearest
// enclosing one), and a summary above the form.
async function validate() {
  const status = document.getElementById("validation");
  if (!status) return;
  let result;
  try { result = await api("POST", "/api/validate", JSON.stringify(DRAFT), true); } catch (e) { status.replaceChildren(failed(e)); return; }
  for (const p of document.querySelectorAll("[data-problem]")) p.textContent = "";
  for (const p of document.querySelectorAll(".invalid")) p.classList.remove("invalid");
  const problems = result.problems.concat([...UNREADABLE].map(([path, message]) => ({ path, message })));
  const ok = result.ok && UNREADABLE.size === 0;
  for (const problem of problems) {
    const slot = slotFor(problem.path);
    const target = slot || document.getElementById("top-problems");
    target.append(h("div", {}, (slot ? "" : (problem.path || "(top level)") + ": ") + problem.message));
    const holder = target.closest("[data-path]");
    if (holder) holder.classList.add("invalid");
  }
  // A value probably meant as a fraction is warned about beside its field; the list
  // under the check keeps what has no field (a repaired correlation matrix, a note).
  const warnings = ok ? result.warnings : [];
  for (const w of warnings) {
    (slotFor(w.pointer) || document.getElementById("top-problems")).append(h("div", { class: "warning" }, `Warning: ${w.pointer} ${w.message}`));
  }
  const placed = new Set(warnings.map((w) => `${w.pointer} ${w.message}`));
  const unplaced = ok ? result.notices.filter((n) => !placed.has(n.text)) : [];
  status.replaceChildren(ok
    ? h("span", { id: "valid" }, "✓ The engine accepts this scenario.",
      warnings.length ? ` ${warnings.length} warning${warnings.length === 1 ? "" : "s"}, shown beside ${warnings.length === 1 ? "its field" : "their fields"}.` : "",
      toldList(unplaced, "validate-notices"))
    : h("span", { class: "error", id: "invalid" }, result.ok
      ? `${UNREADABLE.size} box${UNREADABLE.size === 1 ? " does" : "es do"} not hold a number, shown beside the fields.`
      : `The engine refuses this scenario: ${problems.length} problem${problems.length === 1 ? "" : "s"}, shown beside the fields.`));
  const run = document.getElementById("run-draft");
  const save = document.getElementById("save");
  if (run) run.disabled = !ok;
  if (save) save.disabled = !ok;
  const excel = document.getElementById("draft-xlsx");
  if (excel) excel.disabled = !ok;
}

async function editorView(file) {
  await schema();
  if (file === "new") {
    DRAFT = await api("GET", "/api/template");
    EDITING = { file: "my-scenario.json", shipped: false };
  } else {
    DRAFT = await api("GET", "/api/scenarios/" + encodeURIComponent(file));
    const list = await api("GET", "/api/scenarios");
    const entry = list.scenarios.find((s) => s.file === file);
    EDITING = { file: entry && entry.shipped ? file.replace(/\.json$/, "-edited.json") : file, shipped: !!(entry && entry.shipped), from: file };
  }
  editorForm();
}

function editorForm() {
  // The form is drawn from the draft, so every box shows a number it holds (a partner
  // removed, say, moves the rows): problems of boxes drawn before are forgotten.
  UNREADABLE.clear();
  // A seed above 2^53 - 1 has already been rounded by the browser's JSON reader:
  // saving or running the draft would silently change it.
  if (typeof DRAFT.seed === "number" && !Number.isSafeInteger(DRAFT.seed)) {
    UNREADABLE.set("/seed", "above 9,007,199,254,740,991, more than a browser holds exactly: choose a smaller seed here, or edit the file itself");
  }
  const top = SCHEMA;
  const general = Object.fromEntries(Object.entries(top.properties).filter(([k, p]) => {
    const s = resolve(p);
    return !["service", "partners", "disputes", "correlations", "$schema"].includes(k) && (s.type !== "object" || s.oneOf);
  }));
  const name = h("input", { type: "text", id: "save-name", value: EDITING.file });
  const saved = h("span", { class: "status", id: "save-status" });
  const save = h("button", { type: "button", id: "save", onclick: async () => {
    try {
      const r = await api("PUT", "/api/scenarios/" + encodeURIComponent(name.value), JSON.stringify(DRAFT, null, 2) + "\n", true);
      saved.textContent = "Saved as " + r.saved + ".";
      EDITING.file = r.saved; EDITING.shipped = false; EDITING.saved = true;
    } catch (e) { saved.replaceChildren(failed(e)); }
  } }, "Save");
  const excel = h("button", { type: "button", id: "draft-xlsx", onclick: async () => {
    // The draft as it stands, saved or not; the validator must accept it.
    try {
      const r = await fetch("/api/workbook", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(DRAFT) });
      if (!r.ok) { const data = await r.json(); throw Object.assign(new Error(data.error), { data }); }
      saveAs(await r.blob(), name.value.replace(/\.json$/i, "") + ".xlsx");
    } catch (e) { saved.replaceChildren(failed(e)); }
  } }, "Download (.xlsx)");
  show(
    h("h1", {}, "Edit: ", DRAFT.name || "(no name)"),
    EDITING.shipped ? h("p", { class: "note" }, "This is a shipped example: it is saved under a new name.") : null,
    h("div", { class: "row" }, h("label", {}, "Save as ", name), save, saved,
      h("button", { type: "button", class: "primary", id: "run-draft", onclick: () => {
        // Saved and unchanged since: run the file; otherwise the draft as it stands.
        if (EDITING.saved) { location.hash = "#/run/" + encodeURIComponent(EDITING.file); return; }
        RUN_DRAFT = { json: DRAFT, name: name.value }; location.hash = "#/run/draft";
      } }, "Run this"),
      excel,
      h("a", { class: "button", href: "#/scenarios" }, "Back")),
    h("p", { id: "validation", class: "status" }, "Checking…"),
    h("div", { id: "top-problems", class: "problem", "data-problem": "/" }),
    h("fieldset", { "data-path": "/" }, h("legend", {}, "General"),
      Object.entries(general).map(([k, p]) => field(k, p, [k], (top.required || []).includes(k)))),
    section("Service", top.properties.service, ["service"]),
    rows("Partners", top.properties.partners, ["partners"], (i) => ({ name: "Partner " + (i + 1), baseline_cost: 1000000 })),
    section("Disputes", top.properties.disputes, ["disputes"]),
    rows("Correlations", top.properties.correlations, ["correlations"], () => ({ a: "/service/efficiency", b: "/service/transition_cost", rank_correlation: 0 })));
  validate();
}

// ---- Run ----------------------------------------------------------------------------

let RUN_DRAFT = null;

// What the engine told while each run of this visit ran, by kept run: its results page
// shows them (a run opened later from the history shows its report's warnings).
const TOLD = new Map();

// What the engine told while a job ran or a scenario was checked (a repaired
// correlation matrix, a value probably meant as a fraction, a formula saved as 0), as a
// list; null if it told nothing.
function toldList(notices, id) {
  if (!notices || !notices.length) return null;
  return h("ul", { class: "notices", role: "status", id }, notices.map((n) => h("li", { class: n.kind }, (n.kind === "warning" ? "Warning: " : "Note: ") + n.text)));
}

// Follows a job's progress (server-sent events) into `bar` and `status`; resolves with
// its final state. Closing the page (or this stream) cancels a job that has not ended.
function follow(job, bar, status) {
  return new Promise((resolve) => {
    const events = new EventSource(`/api/jobs/${job}/events`);
    const update = (s) => {
      if (s.total > 0) { bar.max = s.total; bar.value = s.done; }
      status.textContent = s.state === "queued" ? "Waiting for a free place in the queue…"
        : s.state === "running" ? `Running: ${s.done.toLocaleString("en-GB")} of ${s.total.toLocaleString("en-GB")} trials` : "";
    };
    events.addEventListener("progress", (e) => update(JSON.parse(e.data)));
    events.addEventListener("end", (e) => {
      events.close();
      const s = JSON.parse(e.data);
      update(s);
      if (s.state === "done" || s.state === "shown") bar.value = bar.max;
      resolve(s);
    });
    events.onerror = () => { if (events.readyState === EventSource.CLOSED) resolve({ state: "failed", message: "lost the server" }); };
  });
}

async function runView(file) {
  let scenario, title, defaults;
  if (file === "draft") {
    if (!RUN_DRAFT) { location.hash = "#/scenarios"; return; }
    scenario = { json: RUN_DRAFT.json, name: RUN_DRAFT.name + " (edited in the browser)" };
    defaults = RUN_DRAFT.json; title = RUN_DRAFT.json.name;
  } else {
    defaults = await api("GET", "/api/scenarios/" + encodeURIComponent(file));
    scenario = { file }; title = defaults.name;
  }
  const trials = h("input", { type: "number", id: "trials", min: 1, value: defaults.trials || 100000 });
  const seed = h("input", { type: "number", id: "seed", min: 0, value: defaults.seed === undefined ? 1 : defaults.seed });
  const label = h("input", { type: "text", id: "label", placeholder: "e.g. exit fee doubled", maxlength: "200" });
  const sampling = samplingPicker();
  const bar = h("progress", { id: "progress", value: 0, max: 1 });
  const status = h("p", { class: "status", id: "run-status" });
  const cancel = h("button", { type: "button", id: "cancel", disabled: true }, "Cancel");
  const start = h("button", { type: "button", class: "primary", id: "start" }, "Run");
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const { job } = await api("POST", "/api/jobs", { kind: "run", scenario, trials: wholeBox(trials, "Trials"), seed: seedOf(seed, defaults.seed), sampling: sampling.value, label: label.value });
      cancel.disabled = false;
      cancel.onclick = () => api("POST", `/api/jobs/${job}/cancel`);
      const end = await follow(job, bar, status);
      cancel.disabled = true; start.disabled = false;
      if (end.state === "done") { TOLD.set(end.run, end.notices); location.hash = "#/results/" + end.run; }
      else if (end.state === "cancelled") status.textContent = "Cancelled: nothing was kept.";
      else status.replaceChildren(failed(new Error(end.message)), toldList(end.notices) || "");
    } catch (e) { start.disabled = false; status.replaceChildren(failed(e)); }
  });
  show(h("h1", {}, "Run: ", title || ""),
    h("div", { class: "row" }, h("label", {}, "Trials ", trials), h("label", {}, "Seed ", seed), h("label", {}, "Sampling ", sampling), h("label", {}, "Label ", label)),
    h("div", { class: "row" }, start, cancel, bar), status,
    h("p", { class: "note" }, "The same scenario, seed, trials and sampling always give the same figures. Latin hypercube sampling gives the same figures with less noise (1.2 to 9 times less variance in the mean NPV for the shipped scenarios). Leaving this page cancels the run."));
}

// How a run samples its inputs: plain draws, or a Latin hypercube (`--sampling lhs`).
function samplingPicker() {
  return h("select", { id: "sampling", title: "Latin hypercube: each block of 1,024 trials covers every input's range evenly, so the figures carry less noise for the same trials (standard errors from the blocks)" },
    h("option", { value: "plain" }, "Independent draws"),
    h("option", { value: "lhs" }, "Latin hypercube (less noise)"));
}

// ---- Results -------------------------------------------------------------------------

// A button that makes a kept run's file again (its trials, its workbook) as a job of
// `kind`, then downloads it; progress and failures go to `status`.
function remadeButton(id, kind, elementId, label, status) {
  const button = h("button", { type: "button", id: elementId }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const { job } = await api("POST", "/api/jobs", { kind, runs: [id] });
      const end = await follow(job, h("progress"), status);
      if (end.state === "shown") { location.href = `/api/jobs/${job}/data`; status.replaceChildren(toldList(end.notices) || ""); }
      else status.replaceChildren(end.message || end.state, toldList(end.notices) || "");
    } catch (e) { status.replaceChildren(failed(e)); }
    button.disabled = false;
  });
  return button;
}

async function resultsView(id) {
  const run = await api("GET", "/api/runs/" + id);
  const summary = await api("GET", `/api/runs/${id}/summary.txt`);
  const report = await api("GET", `/api/runs/${id}/report.json`);
  const base = `/api/runs/${id}/`;
  const csvStatus = h("span", { class: "status" });
  const csv = remadeButton(id, "trials_csv", "csv", "Trials (CSV)", csvStatus);
  const xlsx = remadeButton(id, "xlsx", "xlsx", "Results (Excel)", csvStatus);
  const partners = h("table", { id: "partners" },
    h("thead", {}, h("tr", {}, ["Partner", "mean NPV", "P5 NPV", "P(worse off)", "P(leaves)"].map((t) => h("th", {}, t)))),
    h("tbody", {}, report.partners.map((p) => h("tr", {}, h("td", {}, p.name), h("td", { class: "num" }, money(p.npv.mean, run.currency)),
      h("td", { class: "num" }, money(p.npv.p05, run.currency)), h("td", { class: "num" }, percent(p.prob_worse_off)), h("td", { class: "num" }, percent(p.prob_withdraws))))));
  const c = report.consortium;
  const card = (label, value, id, note) => h("div", { class: "card" }, h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value), note ? h("div", { class: "note" }, note) : null);
  show(
    h("h1", {}, "Results: ", run.title),
    // The label in <bdi>: its own direction (a right-to-left label, or an override
    // left open in it) stays inside it and cannot reverse the rest of the sentence.
    h("p", { class: "note", id: "run-facts" }, `Run ${run.id}`, run.label ? [" (", h("bdi", {}, run.label), ")"] : null, `: ${run.trials.toLocaleString("en-GB")} trials, seed ${run.seed}${run.sampling === "lhs" ? ", Latin hypercube sampling" : ""}, engine ${run.engine_version}, ${when(run.created)}.`),
    toldList(TOLD.get(run.id) || (report.warnings || []).map((w) => ({ kind: "warning", text: `${w.pointer} ${w.message}` })), "run-notices"),
    h("div", { class: "cards" },
      card("Mean NPV", money(c.npv.mean, run.currency), "mean-npv", "saving against every partner going it alone"),
      card("P(loss)", percent(c.prob_npv_negative.estimate), "prob-loss", "chance the consortium loses money"),
      card("P(collapse)", percent(c.prob_collapse), "prob-collapse", "too few members left"),
      card("Worst 5% (mean)", money(c.npv.cvar05, run.currency), "worst", "average of the worst 1 in 20 futures")),
    h("div", { class: "row" },
      h("a", { class: "button", href: base + "report.html", download: `run-${id}.html` }, "Report (HTML)"),
      h("a", { class: "button", href: base + "report.json", download: `run-${id}.json` }, "Report (JSON)"),
      xlsx, csv, csvStatus,
      h("a", { class: "button", href: base + "scenario.json", download: `run-${id}-scenario.json` }, "Scenario as run"),
      h("a", { class: "button", href: base + "trace.html", target: "_blank", id: "trace" }, "Worst case, year by year")),
    h("h2", {}, "Who is exposed"), partners,
    h("details", { id: "summary-box" }, h("summary", {}, "The figures as the command line prints them"),
      h("pre", { class: "summary", id: "summary" }, summary)),
    h("h2", {}, "The report, with its charts"),
    h("iframe", { class: "report", src: base + "report.html", title: "The run's report" }));
}

// ---- History and Compare -------------------------------------------------------------

async function historyView() {
  const { runs } = await api("GET", "/api/runs");
  const picked = new Set();
  const said = h("div", { id: "label-said" });
  const compare = h("button", { type: "button", id: "compare", disabled: true, onclick: () => { const [a, b] = [...picked]; location.hash = `#/compare/${a}/${b}`; } }, "Compare the two ticked");
  const rowsOf = runs.map((r) => h("tr", { "data-run": r.id },
    h("td", {}, h("input", { type: "checkbox", "aria-label": "pick run " + r.id, onchange: (e) => { if (e.target.checked) picked.add(r.id); else picked.delete(r.id); compare.disabled = picked.size !== 2; } })),
    h("td", { class: "num" }, r.id), h("td", { title: r.created }, when(r.created)), h("td", {}, r.title, h("div", { class: "note" }, r.file)),
    h("td", {}, h("input", { type: "text", value: r.label, placeholder: "label", maxlength: "200", "data-kept": r.label || "", onchange: (e) => relabel(r.id, e.target, said) })),
    h("td", { class: "num" }, r.trials.toLocaleString("en-GB"), r.sampling === "lhs" ? h("div", { class: "note" }, "Latin hypercube") : null), h("td", { class: "num" }, r.seed),
    h("td", { class: "num" }, money(r.mean_npv, r.currency)), h("td", { class: "num" }, percent(r.prob_loss)),
    h("td", {}, h("a", { class: "button", href: "#/results/" + r.id }, "Open"), " ",
      h("button", { type: "button", onclick: async () => { if (confirm("Delete run " + r.id + "?")) { await api("DELETE", "/api/runs/" + r.id); historyView(); } } }, "Delete"))));
  show(h("h1", {}, "History"),
    h("p", { class: "note" }, "Every finished run, as it was: scenario, seed, trials, engine version and report."),
    h("div", { class: "row" }, compare), said,
    runs.length ? h("table", { id: "history" }, h("thead", {}, h("tr", {}, ["", "run", "when", "scenario", "label", "trials", "seed", "mean NPV", "P(loss)", ""].map((t) => h("th", {}, t)))), h("tbody", {}, rowsOf))
      : h("p", {}, "No runs yet: run a scenario and it appears here."));
}

// Keeps a run's new label; one the server refuses (a line break, too long) is put back
// as it was kept, and the refusal shown in `said`.
async function relabel(id, box, said) {
  said.replaceChildren();
  try {
    await api("PATCH", "/api/runs/" + id, { label: box.value });
    box.dataset.kept = box.value;
  } catch (e) {
    box.value = box.dataset.kept;
    said.replaceChildren(failed(e));
  }
}

async function compareView(a, b) {
  const [ra, rb] = await Promise.all([api("GET", "/api/runs/" + a), api("GET", "/api/runs/" + b)]);
  const currencies = ra.currency === rb.currency;
  const paired = currencies && ra.seed === rb.seed && ra.trials === rb.trials && ra.sampling === rb.sampling && ra.engine_version === rb.engine_version && ra.engine_version === ENGINE;
  const status = h("p", { class: "status" });
  const bar = h("progress", { value: 0, max: 1 });
  const body = h("div");
  show(h("h1", {}, `Compare run ${a} with run ${b}`),
    h("p", { class: "note" }, paired
      ? "Both runs used the same seed, trials and sampling with this engine: they are run again together under common random numbers, so the differences are the scenarios', not chance's."
      : currencies
        ? "The runs differ in seed, trials, sampling or engine version, so they are shown side by side as they were kept (differences include chance)."
        : `The runs are in different currencies (${ra.currency} and ${rb.currency}), so one's figures cannot be taken from the other's: they are shown side by side as they were kept.`),
    paired ? h("div", { class: "row" }, bar) : null, status, body);
  if (paired) {
    const { job } = await api("POST", "/api/jobs", { kind: "compare", runs: [Number(a), Number(b)] });
    const end = await follow(job, bar, status);
    status.replaceChildren(toldList(end.notices) || "");
    if (end.state === "shown") {
      body.append(h("div", { class: "row" },
        h("a", { class: "button", href: `/api/jobs/${job}/page.html`, download: "comparison.html" }, "Page (HTML)"),
        h("a", { class: "button", href: `/api/jobs/${job}/data` }, "Figures (JSON)"),
        h("a", { class: "button", href: `/api/jobs/${job}/results.xlsx`, id: "compare-xlsx" }, "Figures (Excel)")),
      h("iframe", { class: "report", src: `/api/jobs/${job}/page.html`, title: "Comparison" }));
    }
    else status.prepend(failed(new Error(end.message || end.state)));
  } else {
    const [sa, sb] = await Promise.all([api("GET", `/api/runs/${a}/summary.txt`), api("GET", `/api/runs/${b}/summary.txt`)]);
    body.append(h("div", { class: "side" },
      h("div", {}, h("h2", {}, `Run ${a}: ${ra.title}`), h("pre", { class: "summary" }, sa)),
      h("div", {}, h("h2", {}, `Run ${b}: ${rb.title}`), h("pre", { class: "summary" }, sb))));
  }
}

// ---- Sweep, Sensitivity and Agreement ----------------------------------------------

// What each analysis asks for beyond the scenario, trials, seed and sampling: one spec a
// line, and for some a number or two.
const ANALYSES = {
  sweep: {
    title: "Sweep",
    note: "Runs the scenario at each value of one or two inputs (one a line: POINTER=START:STOP:STEPS or POINTER=V1,V2,...), all with the same random numbers.",
    lines: "Inputs to vary ",
    example: "/service/efficiency=0.05:0.25:5",
    field: "params",
  },
  sensitivity: {
    title: "Sensitivity",
    note: "Ranks the uncertain inputs by how much they move the NPV (a tornado); for each input named (one a line, e.g. /service/delay_years), finds the value at which the mean NPV turns negative.",
    lines: "Switching values of ",
    placeholder: "/service/delay_years",
    field: "switch",
  },
  agreement: {
    title: "Agreement terms",
    note: "Runs the scenario under every combination of the terms a partnership agreement fixes (one term a line: POINTER=V1,V2,...; /partners/*/FIELD for every partner, /partners/NAME/FIELD for one; a value x0.5 scales the scenario's own), all with the same random numbers, and ranks the sets: which keep every partner's chance of being worse off, and the chance of collapse, within the limits, and which lie on the frontier of consortium NPV against the worst-placed partner's risk. Exit fees move money between partners, not the consortium's NPV: they matter because they move risk.",
    lines: "Terms ",
    example: "/partners/*/lock_in_years=0,3,5\n/partners/*/exit_fee=0,250000",
    field: "terms",
  },
};

async function analysisView(kind) {
  const spec = ANALYSES[kind];
  const list = await api("GET", "/api/scenarios");
  const pick = h("select", { id: "scenario" }, list.scenarios.map((s) => h("option", { value: s.file }, (s.title || s.file) + (s.shipped ? "" : " (" + s.file + ")"))));
  const trials = h("input", { type: "number", id: "trials", min: 1, value: 2000 });
  const seed = h("input", { type: "number", id: "seed", min: 0, value: 1 });
  const sampling = samplingPicker();
  const lines = h("textarea", { id: "specs", placeholder: spec.example || spec.placeholder }, spec.example || "");
  const target = h("input", { type: "number", id: "target", step: "any", placeholder: "e.g. 0.2" });
  const worseOff = h("input", { type: "number", id: "max-worse-off", step: "any", min: 0, max: 1, value: 0.3 });
  const collapse = h("input", { type: "number", id: "max-collapse", step: "any", min: 0, max: 1, placeholder: "e.g. 0.05" });
  const status = h("p", { class: "status" });
  const bar = h("progress", { value: 0, max: 1 });
  const out = h("div");
  const go = h("button", { type: "button", class: "primary", id: "start" }, "Run");
  go.addEventListener("click", async () => {
    go.disabled = true; out.replaceChildren();
    const specs = lines.value.split("\n").map((l) => l.trim()).filter(Boolean);
    try {
      const request = { kind, scenario: { file: pick.value }, trials: wholeBox(trials, "Trials"), seed: wholeBox(seed, "Seed"), sampling: sampling.value };
      request[spec.field] = specs;
      if (kind === "sensitivity" && target.value !== "") request.target_prob_loss = Number(target.value);
      if (kind === "agreement") {
        if (worseOff.value !== "") request.max_worse_off = Number(worseOff.value);
        if (collapse.value !== "") request.max_collapse = Number(collapse.value);
      }
      const { job } = await api("POST", "/api/jobs", request);
      const end = await follow(job, bar, status);
      status.replaceChildren(toldList(end.notices) || "");
      if (end.state === "shown") {
        out.append(h("div", { class: "row" }, h("a", { class: "button", href: `/api/jobs/${job}/page.html`, download: `${kind}.html` }, "Page (HTML)"),
          h("a", { class: "button", href: `/api/jobs/${job}/data` }, "Figures (JSON)"),
          h("a", { class: "button", href: `/api/jobs/${job}/results.xlsx`, id: "analysis-xlsx" }, "Figures (Excel)")),
        h("iframe", { class: "report", src: `/api/jobs/${job}/page.html`, title: spec.title }));
      } else status.prepend(failed(new Error(end.message || end.state)));
    } catch (e) { status.replaceChildren(failed(e)); }
    go.disabled = false;
  });
  show(h("h1", {}, spec.title),
    h("p", { class: "note" }, spec.note),
    h("div", { class: "row" }, h("label", {}, "Scenario ", pick), h("label", {}, "Trials ", trials), h("label", {}, "Seed ", seed), h("label", {}, "Sampling ", sampling)),
    h("div", { class: "row" }, h("label", {}, spec.lines, lines),
      kind === "sensitivity" ? h("label", {}, "Target P(loss) ", target) : null,
      kind === "agreement" ? h("label", {}, "Most P(worse off) for any partner ", worseOff) : null,
      kind === "agreement" ? h("label", {}, "Most P(collapse) ", collapse) : null),
    h("div", { class: "row" }, go, bar), status, out);
}

// ---- Routing -------------------------------------------------------------------------

let ENGINE = "";

// A run's number from the address, or an error saying what the address should be
// (Number("abc") would ask the server for run NaN, whose parser's reply means nothing to
// the reader).
function runNumber(text) {
  if (!/^[1-9][0-9]{0,15}$/.test(text || "")) {
    throw new Error(`"${text || ""}" is not a run's number: the address of a kept run is #/results/N, N its number in History`);
  }
  return Number(text);
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const [page, a, b] = parts;
  for (const link of document.querySelectorAll("[data-nav]")) link.classList.toggle("active", link.dataset.nav === (page || "scenarios"));
  try {
    switch (page) {
      case "edit": await editorView(a); break;
      case "run": await runView(a); break;
      case "results": await resultsView(runNumber(a)); break;
      case "history": await historyView(); break;
      case "compare": await compareView(runNumber(a), runNumber(b)); break;
      case "sweep": await analysisView("sweep"); break;
      case "sensitivity": await analysisView("sensitivity"); break;
      case "agreement": await analysisView("agreement"); break;
      default: await scenariosView();
    }
  } catch (e) { show(failed(e)); }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  try { ENGINE = (await api("GET", "/api/info")).engine_version; } catch (_) { /* shown by the view */ }
  route();
});
