// The password card: a new password for the signed-in user (`POST /api/auth/password/change/`),
// with the live verdict compared against the user's own address and names, as the server does. It
// sends no old password: the server wants a recent sign-in instead (sudo mode), and once that is
// too old, the client asks the user to confirm it is them (reauth.js) and sends the change again.
import { api, holdOffIfThrottled, say, showFieldErrors, whileBusy } from "./api.js";
import { showFeedback } from "./feedback.js";

const $ = (id) => document.getElementById(id);

export const MISMATCH = "Passwords do not match.";

let user = {};
let onChanged = () => {};

/** Wires the form once; `onChanged` runs after the server saved a new password. */
export function setup(options) {
  onChanged = options.onChanged;
  $("new-password").addEventListener("input", showVerdict);
  $("change-form").addEventListener("submit", change);
}

/** The signed-in user, whose address and names the similarity rule compares with. */
export function setUser(value) {
  user = value;
  showVerdict();
}

/** Signed out: an empty form. */
export function close() {
  user = {};
  $("change-form").reset();
  showFieldErrors($("change-form"), null);
  showVerdict();
  say($("change-status"), "");
}

function showVerdict() {
  const { email, username, first_name: first, last_name: last } = user;
  showFeedback($("change-feedback"), $("new-password").value, { email, username, first_name: first, last_name: last });
}

async function change(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const newPassword = $("new-password").value;
  if (newPassword !== $("new-password-confirm").value) {
    const errors = { ok: false, status: 400, data: { new_password_confirm: [MISMATCH] } };
    return say($("change-status"), showFieldErrors(form, errors), "bad");
  }
  say($("change-status"), "Saving…");
  const result = await whileBusy(form, () => api("POST", "/api/auth/password/change/", { new_password: newPassword }));
  const leftover = showFieldErrors(form, result);
  if (!result.ok) {
    say($("change-status"), leftover, "bad");
    holdOffIfThrottled($("change-password"), result);
    return form.querySelector("[aria-invalid='true']")?.focus();
  }
  form.reset();
  showVerdict();
  const saved = typeof result.data.detail === "string" ? result.data.detail : "Your new password is saved.";
  say($("change-status"), `${saved} Your other sessions were signed out.`, "ok");
  await onChanged();
}
