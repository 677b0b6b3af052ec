// 2FA enforcement, for `LatchkeyClient`: a server with `LATCHKEY_REQUIRE_2FA` (or an organization with
// `require_2fa`) lets a user who must set up a second factor sign in, but their access token says
// `"mfa_enrollment_required": true` and every endpoint except their profile (GET), the 2FA and passkey
// enrollment endpoints, re-authentication, sessions and logout refuses them with 403
// `mfa_enrollment_required` until a device is confirmed; a refresh after the confirmation clears the claim.
// An organization that requires 2FA refuses `org` to a member without a second factor with 403
// `mfa_required_by_org`. Hand-written, dependency-free; copied into the package's builds beside `client.js`.
import { decodeToken } from "./latchkey.js";

/** The `code` of the `LatchkeyError` every other endpoint throws until the user has set up a second factor. */
export const MFA_ENROLLMENT_REQUIRED = "mfa_enrollment_required";

/** The `code` of the `LatchkeyError` of a login or refresh naming an organization that requires 2FA, for a member without it. */
export const MFA_REQUIRED_BY_ORG = "mfa_required_by_org";

/** Whether access token `jwt` says its user must set up a second factor before anything else. */
export function enrollmentRequired(jwt) {
  if (typeof jwt !== "string") return false;
  try {
    return decodeToken(jwt).claims.mfa_enrollment_required === true;
  } catch {
    return false;
  }
}
