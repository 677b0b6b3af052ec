// The invitations card: organizations that invited the signed-in user's address
// (`GET /api/orgs/invitations/`), each with Accept and Decline (`POST /api/orgs/invitations/{id}/accept/`
// and `/decline/`). The invitation e-mail links to `/?invitation=<id>`, which marks that one. Shown
// only when the server has invitations (the card stays hidden when the list answers 404); an
// unverified address is told to verify first, as the server asks.
import { api, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

const ROLES = { admin: "an admin", editor: "an editor", author: "an author", viewer: "a viewer" };

// The invitation the page was opened for (`?invitation=<id>`), marked in the list.
const linked = new URLSearchParams(location.search).get("invitation");
if (linked !== null && location.pathname === "/") history.replaceState(null, "", "/");

/** Signed in: lists the pending invitations, if the server has any. */
export async function open() {
  say($("invitations-status"), "");
  await refresh();
  if (linked !== null) $("invitations").querySelector(`li[data-id="${CSS.escape(linked)}"]`)?.scrollIntoView({ block: "center" });
}

/** Signed out: forgets the list and hides the card. */
export function close() {
  $("invitations-card").hidden = true;
  $("invitations").replaceChildren();
  say($("invitations-status"), "");
}

/** Reads the list again (also after the address was verified). */
export async function refresh() {
  const result = await api("GET", "/api/orgs/invitations/");
  // A server without invitations: no card. A 401 has signed the page out already.
  if (result.status === 404 || result.status === 405 || result.status === 401) return close();
  $("invitations-card").hidden = false;
  const list = result.ok && Array.isArray(result.data) ? result.data : [];
  $("invitations").replaceChildren(...list.map(invitationItem));
  $("invitations-empty").hidden = !result.ok || list.length > 0;
  // 403: the address is not verified yet; the server's sentence says what to do.
  if (!result.ok) say($("invitations-status"), problems(result), result.status === 403 ? "" : "bad");
}

function invitationItem(invitation) {
  const li = document.createElement("li");
  li.dataset.id = invitation.id;
  li.dataset.highlight = String(linked !== null && String(invitation.id) === linked);
  const orgName = invitation.org?.name || invitation.org?.slug || "An organization";
  const text = Object.assign(document.createElement("div"), { className: "session-text" });
  const title = Object.assign(document.createElement("p"), { className: "invitation-org", textContent: orgName });
  const by = invitation.invited_by ? ` by ${invitation.invited_by}` : "";
  const meta = Object.assign(document.createElement("p"), {
    className: "hint",
    textContent: `Join as ${ROLES[invitation.role] ?? invitation.role}. Invited${by} ${when(invitation.created_at)}; `
      + `answer by ${when(invitation.expires_at)}.`,
  });
  text.append(title, meta);
  const accept = Object.assign(document.createElement("button"), { type: "button", className: "small accept", textContent: "Accept" });
  accept.setAttribute("aria-label", `Accept the invitation to ${orgName}`);
  const decline = Object.assign(document.createElement("button"), { type: "button", className: "secondary small decline", textContent: "Decline" });
  decline.setAttribute("aria-label", `Decline the invitation to ${orgName}`);
  accept.addEventListener("click", () => answer(invitation, "accept", accept));
  decline.addEventListener("click", () => answer(invitation, "decline", decline));
  li.append(text, accept, decline);
  return li;
}

async function answer(invitation, verb, button) {
  const orgName = invitation.org?.name || invitation.org?.slug || "the organization";
  const path = `/api/orgs/invitations/${encodeURIComponent(invitation.id)}/${verb}/`;
  const result = await whileBusy(button.parentElement, () => api("POST", path, {}));
  if (result.ok && verb === "accept") {
    const role = ROLES[result.data.role] ?? result.data.role ?? "a member";
    say($("invitations-status"), `You joined ${result.data.name ?? orgName} as ${role}.`, "ok");
  } else if (result.ok) {
    say($("invitations-status"), `You declined the invitation to ${orgName}.`, "ok");
  } else if (result.status === 404) {
    say($("invitations-status"), "That invitation is no longer open: it was answered, withdrawn or has expired.");
  } else {
    holdOffIfThrottled(button, result);
    return say($("invitations-status"), problems(result), "bad");
  }
  await refresh();
}

function when(iso) {
  const date = new Date(iso ?? "");
  return Number.isNaN(date.getTime()) ? "at an unknown time"
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
