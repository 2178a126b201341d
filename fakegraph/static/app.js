// The chat page: sends what a citizen would send (through the simulator, which signs and
// POSTs it to the real webhook) and shows what the channel sent to the fake Graph API.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { number: null, since: 0, readsSince: 0, mine: new Map(), typingTimer: null, turnsTimer: null };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// WhatsApp's own formatting: *bold*, _italic_, ~strike~
function format(text) {
  return escapeHtml(text)
    .replace(/\*([^*\n]+)\*/g, "<strong>$1</strong>")
    .replace(/(^|\s)_([^_\n]+)_/g, "$1<em>$2</em>")
    .replace(/~([^~\n]+)~/g, "<s>$1</s>");
}

function now() {
  return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function bubble(kind, html) {
  const item = document.createElement("li");
  item.className = `msg ${kind}`;
  item.innerHTML = html;
  $("log").appendChild(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function meta(item, ticks) {
  const span = document.createElement("span");
  span.className = "meta";
  span.innerHTML = `${now()}${ticks ? ' <span class="ticks" aria-label="sent">✓</span>' : ""}`;
  item.appendChild(span);
}

function detectLanguage(text) {
  if (/[\u0b00-\u0b7f]/.test(text)) return "ଓଡ଼ିଆ";
  if (/[\u0900-\u097f]/.test(text)) return "हिंदी";
  return "English";
}

// ------------------------------------------------------------------ sending
async function send(payload, html) {
  const item = bubble("me", html);
  meta(item, true);
  try {
    const result = await api("/sim/messages", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ from: state.number, ...payload }),
    });
    state.mine.set(result.id, item);
    item.dataset.id = result.id;
  } catch (error) {
    item.querySelector(".ticks").textContent = "⚠";
    item.querySelector(".ticks").setAttribute("aria-label", "not delivered: " + error.message);
  }
}

function sendText(text) {
  if (!text.trim()) return;
  send({ type: "text", text }, format(text));
}

function reply(kind, id, title, buttonsBox) {
  if (buttonsBox) buttonsBox.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  send({ type: kind, id, title }, escapeHtml(title));
}

// A template's quick-reply button: Meta sends back a "button" message with the payload.
function tapTemplateButton(payload, title, buttonsBox) {
  buttonsBox.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  send({ type: "template_button", payload, title }, escapeHtml(title));
}

async function sendAudio(blob, label) {
  const upload = await api("/sim/media", { method: "POST", headers: { "Content-Type": blob.type || "audio/ogg" }, body: blob });
  const url = URL.createObjectURL(blob);
  await send({ type: "audio", media_id: upload.id, voice: true },
    `<audio controls src="${url}" aria-label="${escapeHtml(label)}"></audio>`);
}

// ------------------------------------------------------------------ receiving
function showBotMessage(body, rendered) {
  clearTyping();
  const kind = body.type;
  if (kind === "template" && rendered) {
    // what the citizen sees: the approved text with its parameters filled in (by the simulator)
    const item = bubble("bot template", format(rendered.text));
    meta(item, false);
    $("language").textContent = detectLanguage(rendered.text);
    if (rendered.buttons.length) {
      const box = document.createElement("div");
      box.className = "actions";
      for (const b of rendered.buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => tapTemplateButton(b.payload, b.title, box));
        box.appendChild(button);
      }
      item.appendChild(box);
    }
  } else if (kind === "text") {
    const item = bubble("bot", format(body.text.body));
    meta(item, false);
    $("language").textContent = detectLanguage(body.text.body);
  } else if (kind === "interactive") {
    const content = body.interactive;
    let html = "";
    if (content.header && content.header.text) html += `<strong>${escapeHtml(content.header.text)}</strong>\n`;
    html += format(content.body.text);
    if (content.footer && content.footer.text) html += `\n<small>${escapeHtml(content.footer.text)}</small>`;
    const item = bubble("bot", html);
    meta(item, false);
    $("language").textContent = detectLanguage(content.body.text);
    const box = document.createElement("div");
    box.className = "actions";
    if (content.type === "button") {
      for (const b of content.action.buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.reply.title;
        button.addEventListener("click", () => reply("button", b.reply.id, b.reply.title, box));
        box.appendChild(button);
      }
    } else if (content.type === "list") {
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = "☰ " + content.action.button;
      open.setAttribute("aria-haspopup", "dialog");
      open.addEventListener("click", () => openList(content, box));
      box.appendChild(open);
    }
    item.appendChild(box);
  } else if (kind === "document" && rendered && rendered.document) {
    meta(fileBubble(rendered.document), false);
  } else if (["audio", "image", "document", "video"].includes(kind)) {
    const media = body[kind];
    const link = escapeHtml(media.link || "");
    const html = kind === "audio" ? `<audio controls src="${link}"></audio>`
      : `<a href="${link}" target="_blank" rel="noopener">${escapeHtml(media.filename || media.caption || kind)}</a>`;
    meta(bubble("bot", html), false);
  } else {
    meta(bubble("bot", `<em>(${escapeHtml(kind)} message)</em>`), false);
  }
  scheduleTurns();
}

// A document: a file to tap (type label, name, size) that downloads the bytes the channel
// uploaded to the fake (the simulator's /sim/media/{id}); built with textContent, never HTML.
function fileBubble(doc) {
  const item = bubble("bot", "");
  const file = document.createElement(doc.url ? "a" : "span");
  file.className = "file";
  if (doc.url) {
    file.href = doc.url;  // the simulator's own path or an http(s) link, nothing else
    file.setAttribute("download", doc.filename);
    file.rel = "noopener";
  }
  const label = document.createElement("span");
  label.className = "file-type";
  label.textContent = doc.label;
  const name = document.createElement("span");
  name.className = "file-name";
  name.textContent = doc.filename;
  file.append(label, name);
  if (doc.size !== null) {
    const size = document.createElement("small");
    size.textContent = doc.size < 1024 ? `${doc.size} B` : `${Math.ceil(doc.size / 1024)} kB`;
    file.append(size);
  }
  item.appendChild(file);
  if (doc.caption) {
    const caption = document.createElement("div");
    caption.innerHTML = format(doc.caption);  // format() escapes first
    item.appendChild(caption);
  }
  return item;
}

function openList(content, box) {
  const dialog = $("list-dialog");
  $("list-title").textContent = content.action.button;
  const rows = $("list-rows");
  rows.innerHTML = "";
  for (const section of content.action.sections) {
    if (section.title) {
      const heading = document.createElement("p");
      heading.className = "section";
      heading.textContent = section.title;
      rows.appendChild(heading);
    }
    for (const row of section.rows) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "row";
      button.dataset.id = row.id;
      button.innerHTML = escapeHtml(row.title) + (row.description ? `<small>${escapeHtml(row.description)}</small>` : "");
      button.addEventListener("click", () => {
        dialog.close();
        reply("list", row.id, row.title, box);
      });
      rows.appendChild(button);
    }
  }
  dialog.showModal();
}

function markRead(receipt) {
  const item = state.mine.get(receipt.id);
  if (!item) return;
  const ticks = item.querySelector(".ticks");
  ticks.textContent = "✓✓";
  ticks.classList.add("read");
  ticks.setAttribute("aria-label", "read");
  if (receipt.typing) {
    $("presence").textContent = "typing…";
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(clearTyping, 25000);  // WhatsApp drops the indicator after 25 s
  }
}

function clearTyping() {
  clearTimeout(state.typingTimer);
  $("presence").textContent = "online";
}

async function poll() {
  try {
    const update = await api(`/sim/updates?wa_id=${state.number}&since=${state.since}&reads_since=${state.readsSince}`);
    update.reads.forEach(markRead);
    update.messages.forEach((m) => showBotMessage(m.body, m.rendered));
    state.since = update.next;
    state.readsSince = update.reads_next;
  } catch (error) {
    $("presence").textContent = "offline — is `make run` still running?";
  }
  setTimeout(poll, 300);
}

// ------------------------------------------------------------------ designers
function scheduleTurns() {
  if ($("panel").hidden) return;
  clearTimeout(state.turnsTimer);
  state.turnsTimer = setTimeout(loadTurns, 400);
}

async function loadTurns() {
  try {
    const data = await api(`/sim/turns?wa_id=${state.number}`);
    const slots = Object.entries(data.slots).map(([k, v]) => `<code>${escapeHtml(k)}</code>=${escapeHtml(JSON.stringify(v))}`);
    $("slots").innerHTML = `<p><strong>Slots now:</strong> ${slots.join(", ") || "none"}</p>`;
    $("turns").innerHTML = data.turns.map((t) => {
      const conf = t.confidence < 0.5 ? "conf-low" : "";
      const entities = t.entities.map((e) => `${escapeHtml(e.entity)}=${escapeHtml(String(e.value))}`).join(", ") || "–";
      return `<li><q>${escapeHtml(t.text || "")}</q><br>intent <code>${escapeHtml(t.intent || "?")}</code>
        <span class="${conf}">${t.confidence.toFixed(2)}</span>; entities ${entities}<br>
        form <code>${escapeHtml(t.active_loop || "–")}</code>, asking <code>${escapeHtml(t.requested_slot || "–")}</code><br>
        actions: ${t.actions.map((a) => `<code>${escapeHtml(a)}</code>`).join(" → ") || "–"}</li>`;
    }).reverse().join("");
  } catch (error) {
    $("turns").innerHTML = `<li>${escapeHtml(error.message)}</li>`;
  }
}

// ------------------------------------------------------------------ controls
let recorder = null;
async function toggleRecording() {
  const mic = $("mic");
  if (recorder) { recorder.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"].find((t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      mic.setAttribute("aria-pressed", "false");
      const blob = new Blob(chunks, { type: recorder.mimeType.split(";")[0] || "audio/webm" });
      recorder = null;
      sendAudio(blob, "voice note");
    };
    recorder.start();
    mic.setAttribute("aria-pressed", "true");
  } catch (error) {
    alert("The microphone is not available here (" + error.message + "). Use 📎 to send an audio file.");
  }
}

async function switchNumber(number) {
  state.number = number;
  localStorage.setItem("seva-sim-number", number);
  $("log").innerHTML = "";
  state.mine.clear();
  const update = await api(`/sim/updates?wa_id=${number}&since=0&reads_since=0`);
  state.since = update.next;  // start with an empty screen; the conversation itself goes on
  state.readsSince = update.reads_next;
  $("language").textContent = "–";
  scheduleTurns();
}

async function init() {
  const config = await api("/sim/config");
  const select = $("number");
  for (const n of config.numbers) {
    const option = document.createElement("option");
    option.value = n;
    option.textContent = "+" + n;
    select.appendChild(option);
  }
  const saved = localStorage.getItem("seva-sim-number");
  if (saved && config.numbers.includes(saved)) select.value = saved;
  await switchNumber(select.value);
  select.addEventListener("change", () => switchNumber(select.value));
  $("toggle-panel").hidden = !config.designer;
  $("toggle-panel").addEventListener("click", () => {
    const panel = $("panel");
    panel.hidden = !panel.hidden;
    $("toggle-panel").setAttribute("aria-expanded", String(!panel.hidden));
    scheduleTurns();
  });
  $("reset").addEventListener("click", async () => {
    const result = await api("/sim/reset", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ wa_id: state.number }),
    });
    $("log").innerHTML = "";
    state.since = result.next;
    $("language").textContent = "–";
    scheduleTurns();
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendText($("text").value);
    $("text").value = "";
    $("text").focus();
  });
  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) await sendAudio(file, file.name);
    event.target.value = "";
  });
  $("mic").addEventListener("click", toggleRecording);
  poll();
}

init();
