// The demo page: uses the web build of the npm package exactly as any front-end would.
import init, {
  defaultPolicy, validatePassword, passwordStrength, generateTotpSecret, totpUri, totpQrSvg, totpCode, verifyTotp,
} from "./pkg/latchkey.js";

const $ = (id) => document.getElementById(id);

function showPassword() {
  const password = $("password").value;
  const user = { email: $("email").value };
  const verdict = validatePassword(password, user);
  const strength = passwordStrength(password, [user.email]);
  $("score").value = verdict.score;
  $("verdict").textContent = verdict.valid ? "The server will accept this password." : "The server will refuse this password:";
  $("verdict").className = verdict.valid ? "ok" : "bad";
  $("violations").replaceChildren(...verdict.violations.map((v) => {
    const li = document.createElement("li");
    li.textContent = v.message;
    li.dataset.code = v.code;
    return li;
  }));
  const sentences = [strength.warning, ...strength.suggestions].filter(Boolean);
  $("warning").textContent = sentences.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(" ");
}

let secret = "";
function enroll() {
  secret = generateTotpSecret();
  const uri = totpUri({ secret, issuer: "Latchkey demo", account: $("email").value || "you@example.com" });
  // The SVG comes from our own core, not from user input, so it is safe to insert as markup.
  $("qr").innerHTML = totpQrSvg(uri);
  $("secret").textContent = secret;
  tick();
}

function tick() {
  if (secret) $("code").textContent = totpCode(secret);
}

function checkOtp() {
  const code = $("otp").value.trim();
  if (!secret || code.length < 6) return void ($("otp-result").textContent = "");
  const { valid, step } = verifyTotp(secret, code);
  $("otp-result").textContent = valid ? `Code accepted (time step ${step}).` : "Code not accepted.";
  $("otp-result").className = valid ? "ok" : "bad";
}

await init();
$("fingerprint").textContent = defaultPolicy().fingerprint;
for (const id of ["password", "email"]) $(id).addEventListener("input", showPassword);
$("enroll").addEventListener("click", enroll);
$("otp").addEventListener("input", checkOtp);
setInterval(tick, 1000);
document.body.dataset.ready = "1";
