// Type-checked, never run: the package's TypeScript declarations describe every function the README lists
// §10 and the `LatchkeyClient` with useful types (tsc --noEmit fails on any mismatch, including
// the lines marked to expect an error).
import init, {
  defaultPolicy, validatePassword, passwordStrength, generateTotpSecret, totpUri, parseOtpauthUri, totpQrSvg,
  totpCode, verifyTotp, decodeToken, tokenSecondsLeft, normalizeBackupCode,
  type PasswordPolicy, type PasswordValidation, type PasswordStrength, type OtpauthParams, type TotpVerification,
  type DecodedToken,
} from "latchkey/web";
import { validatePassword as bundlerValidate } from "latchkey";
import {
  LatchkeyClient, LatchkeyError, MFA_ENROLLMENT_REQUIRED, MFA_REQUIRED_BY_ORG, type LoginResult, type ReauthenticationAnswer, type ReauthenticationRequest,
  type Passkey, type PasskeyLoginResult, type PasskeySignInOptions, type MfaMethod,
  type SocialProvider, type SocialSignInResult, type SocialAccount, type SocialErrorCode, type LoginCodeRequest,
} from "latchkey/client";
import { LatchkeyClient as WebClient } from "latchkey/web/client";

await init();
const policy: PasswordPolicy = defaultPolicy();
const fingerprint: string | undefined = policy.fingerprint;
const verdict: PasswordValidation = validatePassword("pw", { email: "a@example.com" }, { min_length: 8 });
const codes: string[] = verdict.violations.map((v) => v.code);
const alsoVerdict: PasswordValidation = bundlerValidate("pw");
const strength: PasswordStrength = passwordStrength("pw", ["alice"]);
const score: 0 | 1 | 2 | 3 | 4 = strength.score;
const secret: string = generateTotpSecret();
const uri: string = totpUri({ secret, issuer: "Example", account: "alice", digits: 8 });
const parsed: OtpauthParams = parseOtpauthUri(uri);
const svg: string = totpQrSvg(uri);
const code: string = totpCode(secret, 59, { algorithm: "SHA256" }) + totpCode(secret);
const verified: TotpVerification = verifyTotp(secret, code, null, { window: 1, lastStep: 3 });
const step: number | null = verified.step;
const token: DecodedToken = decodeToken("a.b.c");
const left: number = tokenSecondsLeft("a.b.c", 0);
const normalized: string = normalizeBackupCode("abcd-efgh-ijkl");

// The client: cookie-mode sessions, its answers narrowed by `status`, its errors typed.
const client = new LatchkeyClient({ baseUrl: "https://auth.example.com", refreshMargin: 60, fetch: globalThis.fetch });
const webClient: WebClient = new WebClient();
// Sudo mode: the hook resolves the user's password or code, or null when they cancel.
const askUser = async ({ method, url, error }: ReauthenticationRequest): Promise<ReauthenticationAnswer> => {
  const code: string | undefined = error.code;
  return method === "DELETE" && code === "reauthentication_required" ? { code: url.slice(-6) } : null;
};
const sudoClient = new LatchkeyClient({ onReauthenticate: askUser });
const syncClient = new LatchkeyClient({ onReauthenticate: () => ({ password: "pw" }) });
const window: { expiresAt: string | null } = await sudoClient.reauthenticate({ password: "pw" });
const login: LoginResult = await client.login({ email: "a@example.com", password: "pw", otp: "123456" });
if (login.status === "mfa_required") {
  const methods: string[] = login.methods;
  await client.verifyMfa(login.mfaToken, methods[0] ?? "");
}
// Passkeys: sign-in (modal, by e-mail, conditional with an AbortSignal), the second factor, sudo, registration.
const autofill = new AbortController();
const conditional: PasskeySignInOptions = { conditional: true, signal: autofill.signal };
const byPasskey: PasskeyLoginResult = await client.signInWithPasskey(conditional);
if (byPasskey.status === "mfa_required") {
  const offered: MfaMethod[] = byPasskey.methods.filter((m): m is MfaMethod => m === "webauthn" || m === "totp");
  const second: { status: "ok" } | { status: "cancelled" } | { status: "unsupported" } = await client.verifyMfaWithPasskey(byPasskey.mfaToken);
  console.log(offered, second.status);
} else if (byPasskey.status === "cancelled" || byPasskey.status === "unsupported") {
  await client.signInWithPasskey({ email: "a@example.com", org: "acme" });
}
await client.signInWithPasskey();
const passkey: Passkey | null = await client.registerPasskey("Laptop");
const passkeyUsed: string | null = passkey === null ? null : passkey.last_used_at;
const transports: string[] = (await client.registerPasskey())?.transports ?? [];
const sudoByPasskey: { expiresAt: string | null } | null = await sudoClient.reauthenticate({ passkey: true });
const passkeyClient = new LatchkeyClient({ onReauthenticate: async () => ({ passkey: true }) });
// Social login: the buttons, leaving for the provider, and the outcome on the page it comes back to.
const providers: SocialProvider[] = await client.providers();
const names: string[] = providers.map(({ id, name }) => `${id}: ${name}`);
await client.signInWith(providers[0]?.id ?? "google", { returnTo: "https://app.example.com/", org: "acme" });
await client.signInWith("github");
const outcome: SocialSignInResult | null = await client.completeSignIn(new URL("https://app.example.com/?login_code=x"));
if (outcome?.status === "link_required") {
  const linked: LoginResult = await client.confirmSocialLink(outcome.linkToken, "pw");
  console.log(outcome.email, outcome.provider, linked.status);
} else if (outcome?.status === "mfa_required") {
  await client.verifyMfa(outcome.mfaToken, "123456");
} else if (outcome?.status === "error") {
  const why: SocialErrorCode = outcome.code;
  console.log(why === "email_unverified");
} else if (outcome?.status === "connected") {
  console.log(outcome.provider);
}
await client.completeSignIn();
await sudoClient.connectSocial("github", { returnTo: "https://app.example.com/settings" });
const linkedAccounts: SocialAccount[] = await client.socialAccounts();
const linkedEmail: string | null = linkedAccounts[0]?.email ?? null;
await sudoClient.unlinkSocial(linkedAccounts[0]!.id);
// E-mailed codes: ask, then the code typed here, or the link's page with its `flow` and `token`.
const asked: LoginCodeRequest = await client.requestLoginCode("a@example.com");
const askedDetail: string = asked.detail;
try {
  const byCode: LoginResult = await client.signInWithCode(asked.flowId, "123456", { org: "acme" });
  if (byCode.status === "mfa_required") await client.verifyMfa(byCode.mfaToken, "654321");
} catch (e) {
  if (e instanceof LatchkeyError && e.code === "code_invalid") console.log(e.attemptsLeft === 0 ? "ask again" : e.attemptsLeft);
}
const linkPage = new URLSearchParams("flow=f&token=t");
const byLink: LoginResult = await client.signInWithLink(linkPage.get("flow") ?? "", linkPage.get("token") ?? "");
const restored: boolean = (await webClient.restore()) && (await client.refresh());
const response: Response = await client.fetch("/api/auth/me/", { method: "GET" });
const bearer: string | null = client.accessToken;
const unsubscribe: () => void = client.onChange((signedIn: boolean) => console.log(signedIn));
try {
  await client.logout();
} catch (e) {
  if (e instanceof LatchkeyError) {
    const detail: [number, string | undefined, unknown, number | undefined] = [e.status, e.code, e.body, e.retryAfter];
    console.log(e.message, detail);
  }
}

// @ts-expect-error: the password must be a string
validatePassword(42);
// @ts-expect-error: digits are 6 or 8
totpCode(secret, 0, { digits: 7 });
// @ts-expect-error: unknown algorithm
totpUri({ secret, account: "a", algorithm: "MD5" });
// @ts-expect-error: a login needs an e-mail address or a username
await client.login({ password: "pw" });
// @ts-expect-error: accessToken is read-only
client.accessToken = "forged";
// @ts-expect-error: the hook answers {password} or {code}, not a bare string
new LatchkeyClient({ onReauthenticate: async () => "pw" });
// @ts-expect-error: a proof is a password or a code, not both
syncClient.reauthenticate({ password: "pw", code: "123456" });
// @ts-expect-error: the mfa token is only there when a second factor is required
client.verifyMfa(login.mfaToken, "123456");
// @ts-expect-error: a passkey proof resolves null when the prompt is dismissed
const neverNull: { expiresAt: string | null } = await sudoClient.reauthenticate({ passkey: true });
// @ts-expect-error: a passkey proof is `{passkey: true}`, not a password beside it
syncClient.reauthenticate({ passkey: true, password: "pw" });
// @ts-expect-error: a passkey sign-in resolves "cancelled" too, which is not a LoginResult
const notLogin: LoginResult = await client.signInWithPasskey();
// @ts-expect-error: passkey ids are numbers
const passkeyId: string = passkey!.id;
// @ts-expect-error: `conditional` is a boolean
client.signInWithPasskey({ conditional: "yes" });
// @ts-expect-error: the provider is named by its id, a string
client.signInWith(1);
// @ts-expect-error: a link token is there only when linking is required
client.confirmSocialLink(outcome!.linkToken, "pw");
// @ts-expect-error: completeSignIn resolves null when the address holds no outcome
const alwaysOutcome: SocialSignInResult = await client.completeSignIn();
// @ts-expect-error: a code is typed as text, never a number (leading zeros)
client.signInWithCode(asked.flowId, 123456);
// @ts-expect-error: attempts left is a number of tries
const attempts: string | undefined = new LatchkeyError("x", { status: 401 }).attemptsLeft;
// 2FA enforcement: the login says so, the client says so until the refresh after enrollment, refusals carry the codes.
async function enforced(client: LatchkeyClient, result: LoginResult): Promise<void> {
  const mustEnroll: boolean = client.mfaEnrollmentRequired;
  if (result.status === "ok" && result.mfaEnrollmentRequired === true && mustEnroll) console.log("set up 2FA first");
  const codes: ["mfa_enrollment_required", "mfa_required_by_org"] = [MFA_ENROLLMENT_REQUIRED, MFA_REQUIRED_BY_ORG];
  console.log(codes);
}
void enforced;

export { fingerprint, codes, alsoVerdict, score, parsed, svg, step, token, left, normalized, restored, response, bearer, unsubscribe, window };
export { passkeyUsed, transports, sudoByPasskey, passkeyClient, neverNull, notLogin, passkeyId };
export { names, linkedEmail, alwaysOutcome, askedDetail, byLink, attempts };
