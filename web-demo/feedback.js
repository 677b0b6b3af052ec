// Live password feedback, as the registration, password-change and reset forms show it: the npm
// package's verdict (the server's own, for the same policy) and its strength estimate. A server with
// the breached-password check on may still refuse a password the policy accepts (`password_breached`,
// which only it can know): the forms show that message under the field when they are sent.
import { passwordStrength, validatePassword } from "./pkg/latchkey.js";

/**
 * Shows the verdict on `password` in the feedback block `box` (its `data-part` children: meter,
 * verdict, violations, warning). `user` holds the attributes the similarity rule compares with:
 * `email`, `username`, `first_name`, `last_name`.
 */
export function showFeedback(box, password, user = {}) {
  const part = (name) => box.querySelector(`[data-part="${name}"]`);
  box.dataset.empty = String(password === "");
  if (password === "") {
    part("meter").value = 0;
    part("verdict").textContent = "Type a password.";
    part("verdict").className = "";
    part("violations").replaceChildren();
    part("warning").textContent = "";
    return;
  }
  const attributes = Object.fromEntries(Object.entries(user).filter(([, value]) => typeof value === "string" && value));
  const verdict = validatePassword(password, attributes);
  const strength = passwordStrength(password, Object.values(attributes));
  part("meter").value = verdict.score;
  part("verdict").textContent = verdict.valid ? "The password policy accepts this password." : "The server will refuse this password:";
  part("verdict").className = verdict.valid ? "ok" : "bad";
  part("violations").replaceChildren(...verdict.violations.map((v) => {
    const li = document.createElement("li");
    li.textContent = v.message;
    li.dataset.code = v.code;
    return li;
  }));
  const sentences = [strength.warning, ...strength.suggestions].filter(Boolean);
  part("warning").textContent = sentences.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(" ");
}
