// The sessions card: where the user is signed in (`GET /api/auth/sessions/`, newest first): each
// session's name (editable, `PATCH /api/auth/sessions/{id}/`), its browser and system, how it signed
// in and when it ends; a Revoke button for every session but this one, "Sign out the other sessions"
// (`POST /api/auth/logout-all/ {"keep_current": true}`) and "Sign out everywhere". Names and the
// other-sessions button appear only when the server's sessions have names.
import { api, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

let onSignedOut = () => {};

/** Wires the buttons once; `onSignedOut(message)` runs when this page's session ended too. */
export function setup(options) {
  onSignedOut = options.onSignedOut;
  $("refresh-sessions").addEventListener("click", () => refresh({ announce: true }));
  $("logout-others").addEventListener("click", signOutOthers);
  $("logout-all").addEventListener("click", signOutEverywhere);
}

/** Signed in: lists the sessions. */
export async function open() {
  say($("sessions-status"), "");
  await refresh();
}

/** Signed out: forgets the list. */
export function close() {
  $("sessions").replaceChildren();
  say($("sessions-status"), "");
}

/** Reads the list again; with `announce`, says so (for the Refresh button). */
export async function refresh({ announce = false } = {}) {
  const result = await whileBusy($("sessions-card"), () => api("GET", "/api/auth/sessions/"));
  // A 401 has signed the client out already, and the page with it (app.js), closing this card.
  if (result.status === 401) return undefined;
  if (!result.ok) return say($("sessions-status"), problems(result), "bad");
  const list = Array.isArray(result.data) ? result.data : [];
  $("sessions").replaceChildren(...list.map(sessionItem));
  $("logout-others").hidden = !list.some((session) => "name" in session) || list.length < 2;
  if (announce) say($("sessions-status"), `${list.length === 1 ? "1 open session" : `${list.length} open sessions`}.`);
}

function sessionItem(session) {
  const li = document.createElement("li");
  li.dataset.id = session.id;
  li.dataset.current = String(session.current === true);
  li.dataset.created = session.created_at ?? "";
  const text = Object.assign(document.createElement("div"), { className: "session-text" });
  text.append(sessionTitle(session), ...sessionFacts(session));
  li.append(text);
  if ("name" in session) {
    const rename = Object.assign(document.createElement("button"), { type: "button", className: "secondary small rename", textContent: "Rename" });
    rename.setAttribute("aria-label", `Rename the session of ${label(session)}`);
    rename.addEventListener("click", () => startRenaming(li, session));
    li.append(rename);
  }
  if (!session.current) {
    const revoke = Object.assign(document.createElement("button"), { type: "button", className: "secondary small revoke", textContent: "Revoke" });
    revoke.setAttribute("aria-label", `Revoke the session of ${label(session)}, signed in ${when(session.created_at)}`);
    revoke.addEventListener("click", () => revokeSession(session, revoke));
    li.append(revoke);
  }
  return li;
}

/** The session's name if it has one, else its device; "This browser" for this one. */
function sessionTitle(session) {
  const title = Object.assign(document.createElement("p"), { className: "session-title" });
  const name = Object.assign(document.createElement("span"), { className: "session-name", textContent: label(session) });
  name.title = session.user_agent ?? "";
  title.append(name);
  if (session.current) title.append(Object.assign(document.createElement("span"), { className: "badge on", textContent: "This browser" }));
  return title;
}

/** The device (under a given name), how the session signed in, its address and times. */
function sessionFacts(session) {
  const lines = [];
  const hint = (className, textContent) => Object.assign(document.createElement("p"), { className: `hint ${className}`, textContent });
  if (session.name) lines.push(hint("device-name", deviceOf(session)));
  const method = { password: "password", passkey: "passkey", code: "e-mailed code" }[session.auth_method]
    ?? (String(session.auth_method ?? "").startsWith("social:") ? session.auth_method.slice(7) : null);
  const how = method ? `with ${method}${session.mfa ? " and a second factor" : ""}` : null;
  lines.push(hint("session-meta", [session.ip || "unknown address", ["signed in", how, when(session.created_at)].filter(Boolean).join(" "),
    `last active ${ago(session.last_used_at)}`].join(" · ")));
  const [ends, latest] = [session.expires_at, session.absolute_expires_at ?? session.expires_at];
  if (ends) lines.push(hint("session-ends", ends === latest ? `Ends ${when(ends)}` : `Ends ${when(ends)} if unused, ${when(latest)} at the latest`));
  return lines;
}

const label = (session) => session.name || deviceOf(session);

/** "Firefox on Windows": the server's reading of the User-Agent, else the page's own. */
function deviceOf(session) {
  const { browser, os } = session.device ?? {};
  if (browser || os) return browser && os ? `${browser} on ${os}` : browser || `A browser on ${os}`;
  return device(session.user_agent);
}

/** Replaces the session's title with a form for its name (blank removes it). */
function startRenaming(li, session) {
  const form = Object.assign(document.createElement("form"), { className: "rename-form", noValidate: true });
  const input = Object.assign(document.createElement("input"), { name: "name", value: session.name ?? "", maxLength: 64,
    placeholder: deviceOf(session), autocomplete: "off" });
  input.setAttribute("aria-label", "Session name");
  const save = Object.assign(document.createElement("button"), { type: "submit", className: "small", textContent: "Save" });
  const cancel = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "Cancel" });
  form.append(input, save, cancel);
  const text = li.querySelector(".session-text");
  const title = text.querySelector(".session-title");
  title.hidden = true;
  text.prepend(form);
  for (const button of li.querySelectorAll(":scope > button")) button.hidden = true;
  cancel.addEventListener("click", () => refresh());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    const result = await whileBusy(form, () => api("PATCH", `/api/auth/sessions/${encodeURIComponent(session.id)}/`, { name }));
    if (result.ok) say($("sessions-status"), name ? `The session is now called ${name}.` : "The session's name is removed.", "ok");
    else if (result.status === 404) say($("sessions-status"), "That session had already ended.");
    else return say($("sessions-status"), problems(result), "bad");
    await refresh();
  });
  input.focus();
  input.select();
}

async function revokeSession(session, button) {
  const result = await whileBusy(button.parentElement, () => api("DELETE", `/api/auth/sessions/${encodeURIComponent(session.id)}/`));
  if (result.ok) say($("sessions-status"), `The session of ${label(session)} is revoked.`, "ok");
  else if (result.status === 404) say($("sessions-status"), "That session had already ended.");
  else {
    holdOffIfThrottled(button, result);
    return say($("sessions-status"), problems(result), "bad");
  }
  await refresh();
}

async function signOutOthers() {
  const result = await whileBusy($("sessions-card"), () => api("POST", "/api/auth/logout-all/", { keep_current: true }));
  if (!result.ok) {
    holdOffIfThrottled($("logout-others"), result);
    return say($("sessions-status"), problems(result), "bad");
  }
  const count = Number(result.data.revoked ?? 0);
  say($("sessions-status"), `Signed out ${count === 1 ? "1 other session" : `${count} other sessions`}; this browser stays signed in.`, "ok");
  await refresh();
}

async function signOutEverywhere() {
  const result = await whileBusy($("sessions-card"), () => api("POST", "/api/auth/logout-all/"));
  if (result.ok) return onSignedOut("You are signed out everywhere, in this browser too.");
  say($("sessions-status"), problems(result), "bad");
  holdOffIfThrottled($("logout-all"), result);
}

/** "Firefox on Windows" from a User-Agent header; the header itself when nothing matches. */
export function device(userAgent = "") {
  const browsers = [[/Edg\//, "Edge"], [/OPR\//, "Opera"], [/Firefox\//, "Firefox"], [/HeadlessChrome\//, "Headless Chrome"],
    [/Chrome\//, "Chrome"], [/Safari\//, "Safari"], [/^curl\//, "curl"]];
  const systems = [[/iPhone|iPad/, "iOS"], [/Android/, "Android"], [/Windows/, "Windows"], [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"], [/Linux/, "Linux"]];
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (!browser) return userAgent.split(" ")[0] || "Unknown browser";
  return system ? `${browser} on ${system}` : browser;
}

function when(iso) {
  const date = new Date(iso ?? "");
  return Number.isNaN(date.getTime()) ? "at an unknown time"
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function ago(iso) {
  const seconds = (Date.now() - new Date(iso ?? "").getTime()) / 1000;
  if (!Number.isFinite(seconds)) return "at an unknown time";
  if (seconds < 60) return "just now";
  const [count, unit] = seconds < 3600 ? [seconds / 60, "minute"] : seconds < 86400 ? [seconds / 3600, "hour"] : [seconds / 86400, "day"];
  return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(-Math.floor(count), unit);
}
