// The sessions card: where the user is signed in (`GET /api/auth/sessions/`, newest first), with a
// Revoke button for every session but this one, and "Sign out everywhere" (`POST /api/auth/logout-all/`).
import { api, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

let onSignedOut = () => {};

/** Wires the buttons once; `onSignedOut(message)` runs when this page's session ended too. */
export function setup(options) {
  onSignedOut = options.onSignedOut;
  $("refresh-sessions").addEventListener("click", () => refresh({ announce: true }));
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
  if (announce) say($("sessions-status"), `${list.length === 1 ? "1 open session" : `${list.length} open sessions`}.`);
}

function sessionItem(session) {
  const li = document.createElement("li");
  li.dataset.id = session.id;
  li.dataset.current = String(session.current === true);
  li.dataset.created = session.created_at ?? "";
  const name = Object.assign(document.createElement("span"), { className: "device-name", textContent: device(session.user_agent) });
  name.title = session.user_agent ?? "";
  const title = Object.assign(document.createElement("p"), { className: "session-title" });
  title.append(name);
  if (session.current) title.append(Object.assign(document.createElement("span"), { className: "badge on", textContent: "This browser" }));
  const meta = Object.assign(document.createElement("p"), {
    className: "hint",
    textContent: [session.ip || "unknown address", `signed in ${when(session.created_at)}`,
      `last active ${ago(session.last_used_at)}`].join(" · "),
  });
  li.append(Object.assign(document.createElement("div"), { className: "session-text" }));
  li.firstChild.append(title, meta);
  if (!session.current) {
    const revoke = Object.assign(document.createElement("button"), { type: "button", className: "secondary small", textContent: "Revoke" });
    revoke.setAttribute("aria-label", `Revoke the session of ${device(session.user_agent)}, signed in ${when(session.created_at)}`);
    revoke.addEventListener("click", () => revokeSession(session, revoke));
    li.append(revoke);
  }
  return li;
}

async function revokeSession(session, button) {
  const result = await whileBusy(button.parentElement, () => api("DELETE", `/api/auth/sessions/${encodeURIComponent(session.id)}/`));
  if (result.ok) say($("sessions-status"), `The session of ${device(session.user_agent)} is revoked.`, "ok");
  else if (result.status === 404) say($("sessions-status"), "That session had already ended.");
  else {
    holdOffIfThrottled(button, result);
    return say($("sessions-status"), problems(result), "bad");
  }
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
