// The profile card: the signed-in user's fields (`GET/PATCH /api/auth/me/`), with the server's
// field errors shown under each field.
import { api, holdOffIfThrottled, say, showFieldErrors, whileBusy } from "./api.js";

const $ = (id) => document.getElementById(id);

/** The fields PATCH accepts, as the form's controls are named. */
const FIELDS = ["first_name", "last_name", "username", "phone_number", "birth_date", "website", "timezone",
  "language", "bio"];

let onSaved = () => {};

/** Wires the form once; `onSaved(user)` runs with the user the server saved. */
export function setup(options) {
  onSaved = options.onSaved;
  $("profile-form").addEventListener("submit", save);
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("timezones").replaceChildren(...zones.map((zone) => Object.assign(document.createElement("option"), { value: zone })));
  $("timezone").placeholder = `e.g. ${Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/Paris"}`;
}

/** Shows `user`'s profile in the form. */
export function fill(user) {
  for (const field of FIELDS) control(field).value = user[field] ?? "";
}

/** Signed out: an empty form, without errors. */
export function close() {
  $("profile-form").reset();
  showFieldErrors($("profile-form"), null);
  say($("profile-status"), "");
}

const control = (field) => $("profile-form").elements.namedItem(field);

async function save(event) {
  event.preventDefault();
  const form = event.currentTarget;
  // A half-typed date reads as "" in a date input: say so rather than clearing the date.
  if (control("birth_date").validity.badInput) {
    const errors = { ok: false, status: 400, data: { birth_date: ["Enter a complete date, or clear the field."] } };
    return say($("profile-status"), showFieldErrors(form, errors), "bad");
  }
  const body = Object.fromEntries(FIELDS.map((field) => [field, control(field).value]));
  // Blank means "none" for these two; the server stores them as null.
  for (const field of ["birth_date", "username"]) if (body[field].trim() === "") body[field] = null;
  say($("profile-status"), "Saving…");
  const result = await whileBusy(form, () => api("PATCH", "/api/auth/me/", body));
  const leftover = showFieldErrors(form, result);
  if (result.ok) {
    fill(result.data);
    say($("profile-status"), "Your profile is saved.", "ok");
    return onSaved(result.data);
  }
  say($("profile-status"), leftover, "bad");
  holdOffIfThrottled($("save-profile"), result);
  form.querySelector("[aria-invalid='true']")?.focus();
}
