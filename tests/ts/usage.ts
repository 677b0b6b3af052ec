// Type-checked, never run: the package's TypeScript declarations describe every function of API.md
// §10 with useful types (tsc --noEmit fails on any mismatch, including the @ts-expect-error lines).
import init, {
  defaultPolicy, validatePassword, passwordStrength, generateTotpSecret, totpUri, parseOtpauthUri, totpQrSvg,
  totpCode, verifyTotp, decodeToken, tokenSecondsLeft, normalizeBackupCode,
  type PasswordPolicy, type PasswordValidation, type PasswordStrength, type OtpauthParams, type TotpVerification,
  type DecodedToken,
} from "latchkey/web";
import { validatePassword as bundlerValidate } from "latchkey";

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

// @ts-expect-error: the password must be a string
validatePassword(42);
// @ts-expect-error: digits are 6 or 8
totpCode(secret, 0, { digits: 7 });
// @ts-expect-error: unknown algorithm
totpUri({ secret, account: "a", algorithm: "MD5" });

export { fingerprint, codes, alsoVerdict, score, parsed, svg, step, token, left, normalized };
