// Deleting the account (`DELETE /api/auth/me/`): sensitive, so past the server's re-authentication
// window the client first asks the user to confirm it is them (reauth.js). The checkbox is the
// "are you sure"; the server then deletes the account, and the page signs out.
import { api, holdOffIfThrottled, problems, say, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

let signOut = async () => {};

/** Wires the form once; `signOut(message, kind)` signs the page out after the deletion. */
export function setup(options) {
  ({ signOut } = options);
  $("delete-form").addEventListener("submit", remove);
}

/** Signed out: an empty form. */
export function close() {
  $("delete-form").reset();
  say($("delete-status"), "");
}

async function remove(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!$("delete-confirm").checked) {
    $("delete-confirm").focus();
    return say($("delete-status"), "Tick the box first: deleting the account cannot be undone.", "bad");
  }
  const result = await whileBusy(form, () => api("DELETE", "/api/auth/me/", {}));
  if (result.ok) return signOut("Your account is deleted. Goodbye.", "ok");
  holdOffIfThrottled($("delete-account"), result);
  say($("delete-status"), problems(result), "bad");
}
