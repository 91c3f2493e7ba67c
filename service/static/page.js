// The web page's script (index.html); a served file so that its Content-Security-Policy can forbid inline script.
"use strict";
const $ = (id) => document.getElementById(id);
const drop = $("drop"), input = $("file");

function show(id, text) { $(id).textContent = text; }

function clear() {
  for (const id of ["status", "text", "confidence", "chars", "error", "page-text"]) show(id, "");
  $("photo-result").style.display = "none";
  $("preview").style.display = "none";
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
