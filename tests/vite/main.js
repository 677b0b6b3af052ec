// The package imported as any Vite app would, with no init step: the bundler build.
import { defaultPolicy, totpCode, validatePassword } from "latchkey";

const out = document.getElementById("result");
try {
  const weak = validatePassword("johndoe2024", { username: "johndoe", email: "john@example.com" });
  const strong = validatePassword("correct horse battery staple", { username: "johndoe" });
  const result = {
    totp: totpCode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59),
    weakValid: weak.valid,
    weakCodes: weak.violations.map((v) => v.code),
    strongValid: strong.valid,
    fingerprint: defaultPolicy().fingerprint,
  };
  out.textContent = JSON.stringify(result, null, 2);
  document.body.dataset.result = JSON.stringify(result);
} catch (error) {
  out.textContent = `failed: ${error.message}`;
  document.body.dataset.error = String(error.stack ?? error);
}
