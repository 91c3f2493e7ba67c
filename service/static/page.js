// The web page's script (index.html); a served file so that its Content-Security-Policy can forbid inline script.
"use strict";
const $ = (id) => document.getElementById(id);
const drop = $("drop"), input = $("file");

function show(id, text) { $(id).textContent = text; }

function clear() {
  for (const id of ["status", "text", "confidence", "chars", "error", "page-text"]) show(id, "");
  $("photo-result").style.display = "none";
  $("preview").style.display = "none";
  closeExplain();
}

function apiHeaders() {
  const headers = {};
  const key = $("apikey").value.trim();
  if (key) headers["X-API-Key"] = key;
  return headers;
}

async function post(path, file) {
  const form = new FormData();
  form.append("file", file, file.name || "image");
  const response = await fetch(path, { method: "POST", body: form, headers: apiHeaders() });
  const body = await response.json();
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function read(file) {
  return $("mode-photo").checked ? readPhoto(file) : recognize(file);
}

// The photo with each word's polygon and text drawn over it, and the page's text beside.
async function readPhoto(file) {
  clear();
  show("status", "finding and reading the text…");
  try {
    const page = await post("v1/ocr", file);
    const words = page.blocks.flatMap((b) => b.lines.flatMap((l) => l.words));
    const canvas = $("canvas");
    const drawn = await drawWords(canvas, file, words);
    canvas.style.display = drawn ? "" : "none";
    canvas.dataset.words = String(words.length);
    $("photo-result").style.display = "block";
    show("page-text", page.text || "(no text found)");
    const unseen = drawn ? "" : " (this browser cannot show this type of image, so the words are not drawn)";
    show("status", `${words.length} words read by ${page.model} in ${page.elapsed_ms} ms${unseen}`);
  } catch (err) {
    show("status", "");
    show("error", err.message);
  }
}

// False when the browser cannot decode the file (TIFF, which the server reads): the text is still shown.
async function drawWords(canvas, file, words) {
  const image = new Image();
  image.src = URL.createObjectURL(file);
  try {
    await image.decode();
  } catch {
    return false;
  }
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  const size = Math.max(12, Math.round(canvas.width / 60));
  ctx.lineWidth = Math.max(2, Math.round(canvas.width / 400));
  ctx.font = `${size}px system-ui, sans-serif`;
  for (const word of words) {
    ctx.strokeStyle = `hsl(${Math.round(120 * word.confidence)}, 90%, 45%)`;
    ctx.beginPath();
    word.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.stroke();
    const [x, y] = word.polygon[0];
    const width = ctx.measureText(word.text).width + 6;
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(x, Math.max(0, y - size - 4), width, size + 4);
    ctx.fillStyle = "#111";
    ctx.fillText(word.text, x + 3, Math.max(size, y - 4));
  }
  return true;
}

// Shown only once the browser has decoded it: a type it cannot show (TIFF) leaves no broken image.
async function showPreview(file) {
  const preview = $("preview");
  preview.src = URL.createObjectURL(file);
  try {
    await preview.decode();
    preview.style.display = "block";
  } catch {
    preview.removeAttribute("src");
  }
}

// Green for confident characters, red for doubtful ones.
function tint(confidence) { return `hsl(${Math.round(120 * confidence)}, 70%, 85%)`; }

async function recognize(file) {
  clear();
  show("status", "reading…");
  try {
    const body = await post("v1/recognize", file);
    showPreview(file);
    show("status", `read by ${body.model} in ${body.elapsed_ms} ms`);
    show("text", body.text || "(no text)");
    show("confidence", `confidence ${(100 * body.confidence).toFixed(1)}%`);
    wordFile = file;
    $("explain-open").hidden = false;
    const chars = $("chars");
    for (const c of body.chars) {
      const span = document.createElement("span");
      span.className = "char";
      span.style.background = tint(c.confidence);
      span.textContent = c.char === " " ? "\u2423" : c.char;
      const small = document.createElement("small");
      small.textContent = c.confidence.toFixed(2);
      span.appendChild(small);
      span.title = `${c.char}: ${c.confidence}`;
      chars.appendChild(span);
    }
  } catch (err) {
    show("status", "");
    show("error", err.message);
  }
}

// The explain view: the word's columns (output frames) under the pointer or the arrow keys, each with
// what the model read there and what the last LSTM layer's four gates did, in the article's words.
let wordFile = null;
let explained = null; // {body, image, column}

function closeExplain() {
  wordFile = null;
  explained = null;
  $("explain-open").hidden = true;
  $("explain").hidden = true;
}

async function openExplain() {
  const file = wordFile;
  $("explain").hidden = false;
  show("explain-error", "");
  show("explain-column", "tracing the gates…");
  try {
    const body = await post("v1/explain?format=json&units=false", file);
    if (file !== wordFile) return; // another image was read meanwhile
    explained = { body, image: await decodedImage(file), column: -1 };
    const strip = $("explain-strip");
    strip.setAttribute("aria-valuemax", String(body.columns.length));
    const firstChar = body.columns.findIndex((c) => c.char !== null);
    selectColumn(Math.max(0, firstChar));
    strip.focus();
  } catch (err) {
    show("explain-column", "");
    show("explain-error", err.message);
  }
}

async function decodedImage(file) {
  const image = new Image();
  image.src = URL.createObjectURL(file);
  try {
    await image.decode();
    return image;
  } catch {
    return null; // a type the browser cannot show (TIFF): the columns are drawn without it
  }
}

const CHAR_ROW = 26;

// The image stretched to the canvas's width, turned as the model read it, with each column's reading under it.
function drawStrip() {
  const { body, image, column } = explained;
  const canvas = $("explain-canvas");
  const width = canvas.clientWidth || 600;
  const ratio = window.devicePixelRatio || 1;
  const turned = body.image.turned;
  const [readWidth, readHeight] = turned ? [body.image.height, body.image.width] : [body.image.width, body.image.height];
  const imageHeight = image ? Math.round(Math.min(140, Math.max(48, (width * readHeight) / readWidth))) : 0;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round((imageHeight + CHAR_ROW) * ratio);
  canvas.style.height = `${imageHeight + CHAR_ROW}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, imageHeight + CHAR_ROW);
  if (image) {
    ctx.save();
    if (turned === 90) { ctx.translate(0, imageHeight); ctx.rotate(-Math.PI / 2); }
    if (turned === -90) { ctx.translate(width, 0); ctx.rotate(Math.PI / 2); }
    if (turned) ctx.drawImage(image, 0, 0, imageHeight, width);
    else ctx.drawImage(image, 0, 0, width, imageHeight);
    ctx.restore();
  }
  const scale = width / readWidth;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  body.columns.forEach((c, t) => {
    const x0 = c.x0 * scale, x1 = c.x1 * scale;
    if (t === column) {
      ctx.fillStyle = "rgba(42, 109, 244, 0.28)";
      ctx.fillRect(x0, 0, x1 - x0, imageHeight + CHAR_ROW);
      ctx.strokeStyle = "#2a6df4";
      ctx.lineWidth = 2;
      ctx.strokeRect(x0 + 1, 1, Math.max(1, x1 - x0 - 2), imageHeight + CHAR_ROW - 2);
    }
    const blank = c.char === null;
    ctx.font = blank ? "bold 14px system-ui, sans-serif" : "bold 15px ui-monospace, monospace";
    ctx.fillStyle = blank ? "#888" : "#1f5fbf";
    ctx.fillText(blank ? "·" : c.char === " " ? "\u2423" : c.char, (x0 + x1) / 2, imageHeight + CHAR_ROW / 2);
  });
}

function percent(value) { return `${Math.round(100 * value)}%`; }

function meter(fraction) {
  const outer = document.createElement("span");
  outer.className = "meter";
  const inner = document.createElement("span");
  inner.style.width = `${Math.round(100 * Math.min(1, Math.max(0, fraction)))}%`;
  outer.appendChild(inner);
  return outer;
}

// What one direction's gates did at column t, in the article's words (means over the hidden units).
function gateWords(gate, direction, t, step) {
  const g = explained.body.directions[direction];
  switch (gate) {
    case "learn":
      return [`learns ${percent(g.ignore_mean[t])} of the candidate memory (ignore factor i_t ${g.ignore_mean[t].toFixed(2)})`,
        g.ignore_mean[t]];
    case "forget":
      return [`keeps ${percent(g.forget_mean[t])} of the long-term memory (forget factor f_t ${g.forget_mean[t].toFixed(2)})`,
        g.forget_mean[t]];
    case "remember": {
      const now = g.long_term_abs_mean[t], before = g.long_term_abs_mean[t - step];
      const change = before === undefined ? "its first column" : `${now >= before ? "+" : "−"}${Math.abs(now - before).toFixed(2)} since the column before`;
      return [`new long-term memory |LTM_t| ${now.toFixed(2)} (${change})`, now / Math.max(...g.long_term_abs_mean, 1e-6)];
    }
    default:
      return [`shows ${percent(g.use_mean[t])} of the memory as its output (use gate V_t ${g.use_mean[t].toFixed(2)})`,
        g.use_mean[t]];
  }
}

function selectColumn(t) {
  const { body } = explained;
  t = Math.min(body.columns.length - 1, Math.max(0, t));
  if (t === explained.column) return;
  explained.column = t;
  const c = body.columns[t];
  const turned = body.image.turned ? ` turned ${Math.abs(body.image.turned)}° ${body.image.turned > 0 ? "left" : "right"} as read` : "";
  const where = `column ${t + 1} of ${body.columns.length} · x ${c.x0.toFixed(0)}–${c.x1.toFixed(0)} px of your image${turned}`;
  const reads = c.char === null
    ? `the model reads the blank: no character here (${percent(c.probability)})`
    : `the model reads “${c.char}” here (${percent(c.probability)})`;
  show("explain-column", `${where}: ${reads}`);
  const strip = $("explain-strip");
  strip.setAttribute("aria-valuenow", String(t + 1));
  strip.setAttribute("aria-valuetext", `column ${t + 1}: ${c.char === null ? "blank" : c.char}`);
  for (const gate of ["learn", "forget", "remember", "use"]) {
    const cells = $(`gate-${gate}`).querySelectorAll("td");
    [["forward", 1], ["reverse", -1]].forEach(([direction, step], i) => {
      const [words, fraction] = gateWords(gate, direction, t, step);
      cells[i].textContent = words;
      cells[i].appendChild(meter(fraction));
    });
  }
  show("explain-note", `Means over the ${body.lstm.hidden_size} hidden units of each direction of LSTM layer `
    + `${body.lstm.layer + 1}. The forward LSTM has read the word up to here from the left, the reverse one from the right.`);
  drawStrip();
}

function columnAt(clientX) {
  const { body } = explained;
  const rect = $("explain-canvas").getBoundingClientRect();
  const turned = body.image.turned;
  const readWidth = turned ? body.image.height : body.image.width;
  const x = ((clientX - rect.left) / rect.width) * readWidth;
  const t = body.columns.findIndex((c) => x < c.x1);
  return t === -1 ? body.columns.length - 1 : t;
}

$("explain-open").addEventListener("click", openExplain);
const strip = $("explain-strip");
strip.addEventListener("pointermove", (e) => { if (explained) selectColumn(columnAt(e.clientX)); });
strip.addEventListener("pointerdown", (e) => { if (explained) selectColumn(columnAt(e.clientX)); });
strip.addEventListener("keydown", (e) => {
  if (!explained) return;
  const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1 };
  if (e.key in moves) selectColumn(explained.column + moves[e.key]);
  else if (e.key === "Home") selectColumn(0);
  else if (e.key === "End") selectColumn(explained.body.columns.length - 1);
  else return;
  e.preventDefault();
});
window.addEventListener("resize", () => { if (explained && explained.column >= 0) drawStrip(); });

drop.addEventListener("click", () => input.click());
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
input.addEventListener("change", () => { if (input.files.length) read(input.files[0]); });
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files.length) read(e.dataTransfer.files[0]);
});
