// What the passkey browser tests share: Chromium's virtual authenticators (the DevTools protocol's
// WebAuthn domain, one set per tab) and conversions between its standard base64 and WebAuthn's base64url.
import assert from "node:assert/strict";

/** A platform authenticator that holds passkeys and verifies the user, touched at once: a laptop's. */
export const PLATFORM = {
  protocol: "ctap2", ctap2Version: "ctap2_1", transport: "internal", hasResidentKey: true,
  hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
};

/**
 * Gives the tab `page` a virtual authenticator (`options` over `PLATFORM`), before the page loads: the
 * browser then uses it, and no other, for every passkey request of that tab. Resolves
 * `{cdp, id, credentials(), set(bits)}`: the DevTools session, the authenticator's id, what it holds, and
 * the protocol's response overrides (`isBogusSignature`, `isBadUV`, `isBadUP`; all off when not named).
 */
export async function addAuthenticator(page, options = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId: id } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options: { ...PLATFORM, ...options } });
  return {
    cdp,
    id,
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId: id })).credentials,
    set: (bits = {}) => cdp.send("WebAuthn.setResponseOverrideBits", {
      authenticatorId: id, isBogusSignature: false, isBadUV: false, isBadUP: false, ...bits,
    }),
  };
}

/**
 * Puts `credential` (as `WebAuthn.getCredentials` lists it) into `authenticator` with a new signature
 * counter: removed, then added again, so the next assertion reports `signCount + 1`.
 */
export async function setSignCount(authenticator, credential, signCount) {
  const { cdp, id } = authenticator;
  await cdp.send("WebAuthn.removeCredential", { authenticatorId: id, credentialId: credential.credentialId });
  const { credentialId, isResidentCredential, rpId, privateKey, userHandle, userName, userDisplayName } = credential;
  await cdp.send("WebAuthn.addCredential", {
    authenticatorId: id,
    credential: { credentialId, isResidentCredential, rpId, privateKey, userHandle, signCount, userName, userDisplayName },
  });
  const [now] = await authenticator.credentials();
  assert.equal(now?.signCount, signCount);
}

/** The base64url text WebAuthn's JSON uses for the protocol's standard base64 (and back). */
export const toBase64url = (base64) => Buffer.from(base64, "base64").toString("base64url");
export const toBase64 = (base64url) => Buffer.from(base64url, "base64url").toString("base64");
