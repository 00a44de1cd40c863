// The inspector's only script: the clock and reset buttons, the ClientID form and the live log.
// Control calls go to the /_emulator routes as JSON; when they answer 401 or 403 the page asks
// for the admin token once and keeps it for this tab only (sessionStorage).
"use strict";

const TOKEN_KEY = "crmemu-admin-token";
const TOKEN_HEADER = "X-Emulator-Admin-Token";
const MAX_ROWS = 500;

function send(path, body) {
  const headers = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers[TOKEN_HEADER] = token;
  return fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
}

async function control(path, body) {
  let response = await send(path, body);
  if (response.status === 401 || response.status === 403) {
    const asked = window.prompt("This emulator protects its control routes. Admin token:");
    if (asked) {
      sessionStorage.setItem(TOKEN_KEY, asked.trim());
      response = await send(path, body);
    }
  }
  return response;
}

async function act(path, body) {
  const message = document.getElementById("control-message");
  message.textContent = "…";
  const response = await control(path, body);
  if (response.ok) {
    window.location.reload();
    return;
  }
  let text = `${response.status}`;
  try {
    text += ": " + (await response.json()).message;
  } catch (error) {
    text += " " + response.statusText;
  }
  message.textContent = text;
}

function wireClock() {
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () =>
      act("/_emulator/clock", { advance_seconds: Number(button.dataset.advance) }));
  }
  document.getElementById("clock-set").addEventListener("submit", (event) => {
    event.preventDefault();
    act("/_emulator/clock", { now: event.target.elements.now.value.trim() });
  });
  document.getElementById("reset").addEventListener("click", () => {
    if (window.confirm("Forget all uploads, orders and visits, and restore the counters?")) {
      act("/_emulator/reset", {});
    }
  });
}

function wireClientForm() {
  const form = document.getElementById("find-client");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = form.elements.client_id.value.trim();
    if (id) window.location.href = form.dataset.base + encodeURIComponent(id);
  });
}

function wireLiveLog() {
  const rows = document.getElementById("request-rows");
  const live = document.getElementById("live");
  if (!rows || !live) return;
  const poll = document.body.dataset.poll;
  async function refresh() {
    if (!live.checked) return;
    const query = new URLSearchParams({ after: rows.dataset.after || "0" });
    if (rows.dataset.counter) query.set("counter", rows.dataset.counter);
    const response = await fetch(`${poll}?${query}`);
    if (!response.ok) return;
    const html = (await response.text()).trim();
    if (!html) return;
    rows.insertAdjacentHTML("afterbegin", html);
    rows.dataset.after = rows.rows[0].dataset.seq;
    while (rows.rows.length > MAX_ROWS) rows.deleteRow(-1);
  }
  window.setInterval(() => refresh().catch(() => {}), 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  wireClock();
  wireClientForm();
  wireLiveLog();
});
