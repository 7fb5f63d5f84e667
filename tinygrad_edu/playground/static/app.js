// tinygrad_edu Playground page. Training runs in the Python process; this script draws the frames the
// server streams (server-sent events) and posts the controls' changes. Plain JS, no build step.
"use strict";

const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const FEATURE_LABELS = { "x1": "X\u2081", "x2": "X\u2082", "x1^2": "X\u2081\u00B2", "x2^2": "X\u2082\u00B2",
  "x1*x2": "X\u2081X\u2082", "sin(x1)": "sin(X\u2081)", "sin(x2)": "sin(X\u2082)" };
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const MAX_LAYERS = 6, MAX_NEURONS = 8, DOMAIN = 6;
const ORANGE = [245, 147, 34], GREY = [232, 234, 235], BLUE = [8, 119, 189];

const ICONS = {
  play: '<svg viewBox="0 0 24 24" width="24" height="24"><path d="M8 5v14l11-7z" fill="currentColor"/></svg>',
  pause: '<svg viewBox="0 0 24 24" width="24" height="24"><path d="M6 5h4v14H6zM14 5h4v14h-4z" fill="currentColor"/></svg>',
  step: '<svg viewBox="0 0 24 24" width="20" height="20"><path d="M6 6v12l8.5-6zM16 6h2v12h-2z" fill="currentColor"/></svg>',
};
const $ = (id) => document.getElementById(id);
const state = { session: null, frame: null, trainPoints: [], testPoints: [], thumbnails: {}, events: null,
  selected: null, lastExplain: null };

// ------------------------------------------------------------------ colours and pictures

function colour(v) {  // -1 orange .. 0 grey .. +1 blue, as the original
  v = Math.max(-1, Math.min(1, v));
  const [a, b, t] = v < 0 ? [GREY, ORANGE, -v] : [GREY, BLUE, v];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

function paintMap(canvas, grid, discretize) {  // grid: r rows of r values, row 0 at x2 = +6
  const r = grid.length;
  if (canvas.width !== r) { canvas.width = r; canvas.height = r; }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(r, r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let v = grid[i][j];
      if (discretize) v = v >= 0 ? 1 : -1;
      const [red, green, blue] = colour(v);
      const k = 4 * (i * r + j);
      image.data[k] = red; image.data[k + 1] = green; image.data[k + 2] = blue; image.data[k + 3] = 160;
    }
  }
  ctx.putImageData(image, 0, 0);
}

function drawPoints(ctx, points, size, stroke) {
  const scale = (v) => ((v + DOMAIN) / (2 * DOMAIN)) * size;
  for (const [x1, x2, y] of points) {
    ctx.beginPath();
    ctx.arc(scale(x1), size - scale(x2), 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${colour(y).join(",")})`;
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = stroke;
    ctx.stroke();
  }
}

function drawOutput() {
  const f = state.frame, canvas = $("output"), size = 300;
  const off = document.createElement("canvas");
  const hovered = state.hovered && state.hovered.grid;  // a neuron under the mouse shows large here
  paintMap(off, hovered || f.output, !hovered && $("discretize").checked);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, size, size);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, size, size);
  drawPoints(ctx, state.trainPoints, size, "#fff");
  if ($("show-test").checked) drawPoints(ctx, state.testPoints, size, "#000");
}

function drawLossChart() {
  const canvas = $("loss-chart"), ctx = canvas.getContext("2d"), h = state.frame.history;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (h.length < 2) return;
  const top = Math.max(...h.map((p) => Math.max(p[1], p[2])), 1e-9);
  for (const [col, colour_] of [[2, "#999"], [1, "#333"]]) {
    ctx.beginPath();
    h.forEach((p, i) => {
      const x = (i / (h.length - 1)) * canvas.width, y = canvas.height - (p[col] / top) * (canvas.height - 2) - 1;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = colour_;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

// ------------------------------------------------------------------ the network

function neuronBox(layer, index, grid, title) {
  const div = document.createElement("div");
  div.className = "neuron";
  div.dataset.layer = layer;
  div.dataset.neuron = index;
  const canvas = document.createElement("canvas");
  canvas.dataset.testid = `neuron-${layer}-${index}`;
  canvas.setAttribute("data-testid", `neuron-${layer}-${index}`);
  canvas.title = title;
  paintMap(canvas, grid, false);
  canvas.addEventListener("mouseenter", () => { state.hovered = { layer, index }; hoverGrid(); drawOutput(); });
  canvas.addEventListener("mouseleave", () => { state.hovered = null; drawOutput(); });
  div.appendChild(canvas);
  return div;
}

function buildNetwork() {
  const f = state.frame, s = f.state;
  const features = $("features");
  features.innerHTML = '<div class="layer-title">Which properties<br>do you want to feed in?</div>';
  const active = new Set(s.features);
  let k = 0;
  for (const name of FEATURES) {
    const on = active.has(name);
    const grid = on ? f.features[k++] : null;
    const div = neuronBox(0, on ? k - 1 : -1, grid || blankGrid(), name);
    div.classList.toggle("off", !on);
    div.querySelector("canvas").setAttribute("data-testid", `feature-${name}`);
    if (!on) paintFeatureOff(div.querySelector("canvas"), name);
    const label = document.createElement("span");
    label.textContent = FEATURE_LABELS[name];
    div.appendChild(label);
    div.addEventListener("click", () => toggleFeature(name));
    features.appendChild(div);
  }
  const hidden = $("hidden-layers");
  hidden.innerHTML = "";
  s.hidden.forEach((n, l) => {
    const layer = document.createElement("div");
    layer.className = "layer";
    const title = document.createElement("div");
    title.className = "layer-title";
    const buttons = document.createElement("div");
    buttons.className = "neuron-buttons";
    for (const [sign, text] of [[1, "+"], [-1, "\u2212"]]) {
      const b = document.createElement("button");
      b.className = "round";
      b.textContent = text;
      b.setAttribute("data-testid", `${sign > 0 ? "add" : "remove"}-neuron-${l + 1}`);
      b.addEventListener("click", (e) => { e.stopPropagation(); changeNeurons(l, sign); });
      buttons.appendChild(b);
    }
    title.appendChild(buttons);
    title.appendChild(document.createTextNode(`${n} neuron${n === 1 ? "" : "s"}`));
    layer.appendChild(title);
    for (let j = 0; j < n; j++) {
      const div = neuronBox(l + 1, j, f.neurons[l][j], `layer ${l + 1}, neuron ${j + 1}: click for its bias and gradient`);
      div.addEventListener("click", () => explain(l + 1, j, null));
      layer.appendChild(div);
    }
    hidden.appendChild(layer);
  });
  const out = $("output-layer");
  out.innerHTML = '<div class="layer-title">Output</div>';
  const L = s.hidden.length + 1;
  const div = neuronBox(L, 0, f.neurons[L - 1][0], "the output neuron: click for its bias and gradient");
  div.addEventListener("click", () => explain(L, 0, null));
  out.appendChild(div);
  $("layer-count").textContent = `${s.hidden.length} hidden layer${s.hidden.length === 1 ? "" : "s"}`;
  markSelection();
  requestAnimationFrame(drawLinks);
}

function repaintNetwork() {  // same layers: new pictures and links, the same elements (clicks keep working)
  const f = state.frame;
  [...$("features").querySelectorAll(".neuron:not(.off) canvas")].forEach((c, k) => paintMap(c, f.features[k], false));
  [...$("hidden-layers").children].forEach((layer, l) =>
    [...layer.querySelectorAll(".neuron canvas")].forEach((c, j) => paintMap(c, f.neurons[l][j], false)));
  const out = $("output-layer").querySelector(".neuron canvas");
  if (out) paintMap(out, f.neurons[f.neurons.length - 1][0], false);
  drawLinks();
}

function hoverGrid() {  // the hovered neuron's picture in the current frame
  const h = state.hovered, f = state.frame;
  if (!h) return;
  h.grid = h.layer === 0 ? (h.index >= 0 ? f.features[h.index] : null) : f.neurons[h.layer - 1][h.index];
}

function blankGrid() { return [[0, 0], [0, 0]]; }

function paintFeatureOff(canvas, name) {  // an inactive feature still shows what it would feed in
  const r = 20, grid = [];
  for (let i = 0; i < r; i++) {
    const row = [];
    const x2 = DOMAIN - (2 * DOMAIN * i) / (r - 1);
    for (let j = 0; j < r; j++) {
      const x1 = -DOMAIN + (2 * DOMAIN * j) / (r - 1);
      const v = { "x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1*x2": x1 * x2,
        "sin(x1)": Math.sin(x1), "sin(x2)": Math.sin(x2) }[name];
      row.push(v);
    }
    grid.push(row);
  }
  paintMap(canvas, grid, false);
}

function centre(el, box) {
  const r = el.getBoundingClientRect();
  return { x: r.left - box.left, y: r.top - box.top + r.height / 2, w: r.width };
}

function drawLinks() {
  const f = state.frame, svg = $("links"), box = $("network").getBoundingClientRect();
  svg.innerHTML = "";
  const columns = [[...$("features").querySelectorAll(".neuron:not(.off) canvas")]];
  for (const layer of $("hidden-layers").children) columns.push([...layer.querySelectorAll(".neuron canvas")]);
  columns.push([...$("output-layer").querySelectorAll(".neuron canvas")]);
  const ns = "http://www.w3.org/2000/svg";
  for (let l = 1; l < columns.length; l++) {
    const W = f.weights[l - 1], dead = f.dead[l - 1];
    columns[l].forEach((to, j) => {
      columns[l - 1].forEach((from, k) => {
        const a = centre(from, box), b = centre(to, box);
        const x0 = a.x + a.w, x1 = b.x, mid = (x0 + x1) / 2;
        const d = `M${x0},${a.y} C${mid},${a.y} ${mid},${b.y} ${x1},${b.y}`;
        const w = W[j][k];
        const hit = document.createElementNS(ns, "path");
        hit.setAttribute("d", d);
        hit.setAttribute("class", "hit");
        hit.setAttribute("data-testid", `link-${l}-${j}-${k}`);
        const title = document.createElementNS(ns, "title");
        title.textContent = `W[${l}]_${j + 1}${k + 1} = ${w.toFixed(3)}${dead[j][k] ? " (dead: L1 set it to 0)" : ""}`;
        hit.appendChild(title);
        hit.addEventListener("click", () => explain(l, j, k));
        const path = document.createElementNS(ns, "path");
        path.setAttribute("d", d);
        path.setAttribute("class", "link");
        path.setAttribute("stroke", `rgb(${colour(w).join(",")})`);
        path.setAttribute("stroke-width", String(Math.min(8, 0.5 + 3 * Math.abs(w))));
        if (dead[j][k]) path.setAttribute("stroke-dasharray", "2,3");
        const sel = state.selected;
        if (sel && sel.source !== null && sel.layer === l && sel.neuron === j && sel.source === k) {
          path.classList.add("selected");
        }
        svg.appendChild(hit);
        svg.appendChild(path);
      });
    });
  }
}

function markSelection() {
  document.querySelectorAll(".neuron.selected").forEach((el) => el.classList.remove("selected"));
  const sel = state.selected;
  if (sel && sel.source === null) {
    const el = document.querySelector(`[data-testid="neuron-${sel.layer}-${sel.neuron}"]`);
    if (el) el.parentElement.classList.add("selected");
  }
}

// ------------------------------------------------------------------ a frame from the server

function pad(n) { return String(n).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2"); }

function render(frame) {
  const previous = state.frame;
  state.frame = frame;
  if (frame.train_points) { state.trainPoints = frame.train_points; state.testPoints = frame.test_points; }
  const s = frame.state;
  $("epoch").textContent = pad(frame.epoch);
  $("train-loss").textContent = frame.train_loss.toFixed(3);
  $("test-loss").textContent = frame.test_loss.toFixed(3);
  const play = $("play");
  play.classList.toggle("playing", frame.playing);
  play.innerHTML = frame.playing ? ICONS.pause : ICONS.play;
  play.setAttribute("aria-pressed", frame.playing ? "true" : "false");
  setSelect("learning-rate", s.lr);
  setSelect("activation", s.activation);
  setSelect("regularization", s.regularization || "none");
  setSelect("reg-rate", s.reg_rate);
  setSelect("problem", s.problem);
  setRange("train-ratio", Math.round(s.train_ratio * 100));
  setRange("noise", Math.round(s.noise * 100));
  setRange("batch-size", s.batch_size);
  document.querySelectorAll(".datasets canvas").forEach((c) => {
    c.classList.toggle("selected", c.dataset.name === s.dataset);
    c.classList.toggle("hidden", state.thumbnails[c.dataset.name].problem !== s.problem);
  });
  const structure = JSON.stringify([s.features, s.hidden]);
  if (!previous || JSON.stringify([previous.state.features, previous.state.hidden]) !== structure) {
    state.selected = null;
    state.hovered = null;
    $("inspector").classList.add("hidden");
    buildNetwork();
  } else {
    repaintNetwork();
  }
  hoverGrid();
  drawOutput();
  drawLossChart();
  writeUrl(s);
}

function setSelect(id, value) {
  const el = $(id);
  if (document.activeElement !== el) el.value = String(value);
}

function setRange(id, value) {
  const el = $(id);
  if (document.activeElement !== el) el.value = String(value);
  $(`${id}-value`).textContent = String(value);
}

// ------------------------------------------------------------------ the URL holds the settings

function writeUrl(s) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  const hash = "#" + params.toString();
  state.lastHash = hash;
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + location.search + hash);
}

function readUrl() {
  const params = new URLSearchParams(location.hash.slice(1)), s = {};
  for (const [k, v] of params) {
    if (k === "features") s[k] = v ? v.split(",") : [];
    else if (k === "hidden") s[k] = v ? v.split(",").map(Number) : [];
    else if (["dataset", "activation", "problem"].includes(k)) s[k] = v;
    else if (k === "regularization") s[k] = v === "null" || v === "none" ? null : v;
    else s[k] = Number(v);
  }
  return s;
}

// ------------------------------------------------------------------ talking to the server

function showMessage(text) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("hidden", !text);
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
  } catch (e) {
    connectionLost();
    return null;
  }
  const answer = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) { showMessage(answer.error || `error ${response.status}`); return null; }
  showMessage("");
  return answer;
}

async function command(action, extra) {
  const answer = await post("/api/command", { session: state.session, action, ...extra });
  if (!answer && state.frame) render(state.frame);  // refused: the controls show the settings in force again
  return answer;
}

function update(settings) { return command("update", { settings }); }

function connectionLost() {
  const c = $("connection");
  c.textContent = "Connection to the Playground server lost; retrying. (Is `tinygrad-edu playground` still running?)";
  c.classList.remove("hidden");
}

function listen() {
  if (state.events) state.events.close();
  const events = new EventSource(`/api/events?session=${encodeURIComponent(state.session)}`);
  state.events = events;
  events.addEventListener("frame", (e) => {
    $("connection").classList.add("hidden");
    render(JSON.parse(e.data));
  });
  events.onopen = () => $("connection").classList.add("hidden");
  events.onerror = () => {
    connectionLost();
    if (events.readyState === EventSource.CLOSED) {  // the server forgot this session (restarted)
      $("connection").textContent = "The Playground server restarted or this session ended; reload the page.";
    }
  };
}

async function explain(layer, neuron, source) {
  state.selected = { layer, neuron, source };
  markSelection();
  drawLinks();
  const answer = await command("explain", { layer, neuron, source });
  if (!answer) return;
  const e = answer.explanation;
  $("inspector").classList.remove("hidden");
  $("inspector-title").textContent = source === null ? `Neuron ${neuron + 1} of layer ${layer}: its bias ${e.name}`
    : `Link from neuron ${source + 1} of layer ${layer - 1} to neuron ${neuron + 1} of layer ${layer}: ${e.name}`;
  $("inspector-numbers").innerHTML = "";
  const numbers = [["value", e.value], ["gradient dJ/d" + e.name, e.grad]];
  for (const [name, v] of numbers) {
    const span = document.createElement("span");
    span.innerHTML = `${name} = <b></b> &nbsp; `;
    span.querySelector("b").textContent = v.toPrecision(5);
    $("inspector-numbers").appendChild(span);
  }
  $("inspector-formula").textContent = e.formula;
  $("inspector-steps").textContent = e.steps;
  const graph = $("inspector-graph");
  if (e.svg) graph.innerHTML = e.svg.slice(e.svg.indexOf("<svg"));  // our own Graphviz output
  else { graph.innerHTML = "<pre></pre>"; graph.firstChild.textContent = e.dot; }
}

// ------------------------------------------------------------------ controls

function toggleFeature(name) {
  const s = state.frame.state, on = new Set(s.features);
  if (on.has(name)) on.delete(name); else on.add(name);
  update({ features: FEATURES.filter((f) => on.has(f)) });
}

function changeNeurons(l, sign) {
  const hidden = [...state.frame.state.hidden];
  hidden[l] = Math.max(1, Math.min(MAX_NEURONS, hidden[l] + sign));
  update({ hidden });
}

function fillSelect(id, values) {
  const el = $(id);
  for (const v of values) {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = String(v);
    el.appendChild(o);
  }
}

function thumbnailCanvases() {
  const box = $("datasets");
  for (const [name, t] of Object.entries(state.thumbnails)) {
    const c = document.createElement("canvas");
    c.width = 64; c.height = 64;
    c.dataset.name = name;
    c.setAttribute("data-testid", `dataset-${name}`);
    c.title = name;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(0, 0, 64, 64);
    const scale = (v) => ((v + DOMAIN) / (2 * DOMAIN)) * 64;
    for (const [x1, x2, y] of t.points) {
      ctx.fillStyle = `rgb(${colour(y).join(",")})`;
      ctx.fillRect(scale(x1) - 1.5, 64 - scale(x2) - 1.5, 3, 3);
    }
    c.addEventListener("click", () => update({ dataset: name }));
    box.appendChild(c);
  }
}

function wire() {
  $("play").innerHTML = ICONS.play;
  $("step").innerHTML = ICONS.step;
  fillSelect("learning-rate", LEARNING_RATES);
  fillSelect("reg-rate", REG_RATES);
  $("play").addEventListener("click", () => command(state.frame && state.frame.playing ? "pause" : "play"));
  $("step").addEventListener("click", () => command("step"));
  $("reset").addEventListener("click", () => command("reset"));
  $("regenerate").addEventListener("click", () => command("regenerate"));
  $("learning-rate").addEventListener("change", (e) => update({ lr: Number(e.target.value) }));
  $("activation").addEventListener("change", (e) => update({ activation: e.target.value }));
  $("regularization").addEventListener("change", (e) =>
    update({ regularization: e.target.value === "none" ? null : e.target.value }));
  $("reg-rate").addEventListener("change", (e) => update({ reg_rate: Number(e.target.value) }));
  $("problem").addEventListener("change", (e) => {
    const problem = e.target.value;
    const dataset = Object.keys(state.thumbnails).find((n) => state.thumbnails[n].problem === problem);
    update({ problem, dataset });
  });
  for (const [id, key, scale] of [["train-ratio", "train_ratio", 100], ["noise", "noise", 100], ["batch-size", "batch_size", 1]]) {
    $(id).addEventListener("input", (e) => { $(`${id}-value`).textContent = e.target.value; });
    $(id).addEventListener("change", (e) => update({ [key]: Number(e.target.value) / scale }));
  }
  $("add-layer").addEventListener("click", () => {
    const hidden = [...state.frame.state.hidden];
    if (hidden.length < MAX_LAYERS) update({ hidden: [...hidden, 2] });
  });
  $("remove-layer").addEventListener("click", () => {
    const hidden = [...state.frame.state.hidden];
    if (hidden.length > 0) update({ hidden: hidden.slice(0, -1) });
  });
  $("show-test").addEventListener("change", drawOutput);
  $("discretize").addEventListener("change", drawOutput);
  $("close-inspector").addEventListener("click", () => {
    $("inspector").classList.add("hidden");
    state.selected = null;
    markSelection();
    drawLinks();
  });
  $("show-code").addEventListener("click", async () => {
    const answer = await command("code");
    if (!answer) return;
    $("code").textContent = answer.code;
    $("code-dialog").classList.remove("hidden");
  });
  $("close-code").addEventListener("click", () => $("code-dialog").classList.add("hidden"));
  window.addEventListener("resize", () => state.frame && drawLinks());
  // A hidden tab closes its stream (and so pauses its training, as the original's animation does):
  // browsers allow about six connections per server, and a stream holds one for as long as it is open.
  document.addEventListener("visibilitychange", () => {
    if (!state.session) return;
    if (document.hidden && state.events) { state.events.close(); state.events = null; }
    else if (!document.hidden && !state.events) listen();
  });
  window.addEventListener("hashchange", () => {  // a pasted or edited URL: apply its settings to this session
    const settings = readUrl();
    if (state.session && location.hash !== state.lastHash && Object.keys(settings).length) update(settings);
  });
}

async function start() {
  wire();
  try {
    state.thumbnails = await (await fetch("/api/thumbnails")).json();
  } catch (e) {
    connectionLost();
    return;
  }
  thumbnailCanvases();
  const given = new URLSearchParams(location.search).get("session");  // a notebook's show() shares its object
  if (given) {
    state.session = given;
  } else {
    let answer = await post("/api/session", { state: readUrl() });
    if (!answer) answer = await post("/api/session", { state: {} });  // a bad URL: start from the defaults
    if (!answer) return;
    state.session = answer.session;
    render(answer.frame);
  }
  listen();
}

start();
