//! What a test scripts of the fake OpenID provider ([`super::oidc_fake`]) and reads back from it:
//! the user who signs in, the [`Tamper`]ings of an ID token and the check each must fail, the
//! endpoints that can be made to fail, the calls counted, the last authorization, and the callback
//! a provider sends the browser to (with [`pkce_challenge`], shared with the GitHub stand-in).

use std::collections::HashMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcUser {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

impl Default for OidcUser {
    /// Jane Doe, `jane@example.test`, verified, subject "248289761001".
    fn default() -> Self {
        Self {
            sub: "248289761001".into(),
            email: Some("jane@example.test".into()),
            email_verified: true,
            given_name: Some("Jane".into()),
            family_name: Some("Doe".into()),
        }
    }
}

/// One way to make the ID token bad (each one is a check the server must make).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// `iss` is another issuer.
    WrongIssuer,
    /// `aud` is another client.
    WrongAudience,
    /// `aud` is `[client, other]` and there is no `azp`.
    ExtraAudienceWithoutAzp,
    /// Not a tampering: `aud` is `[client, other]` with `azp` = the client, which is valid.
    ExtraAudienceWithAzp,
    /// `nonce` is not the one of the authorization request.
    WrongNonce,
    /// No `nonce`.
    NoNonce,
    /// `exp` two minutes ago (beyond a 60 s leeway), `iat` an hour ago.
    Expired,
    /// `iat` five minutes ahead.
    IssuedInFuture,
    /// No `sub`.
    NoSubject,
    /// One bit of the signature flipped.
    FlippedSignature,
    /// Signed by the other key under the published kid "k1".
    OtherKeySameKid,
    /// Signed by the real key under a kid the JWKS does not hold.
    UnknownKid,
    /// `alg: none` (kid "k1") and an empty signature.
    AlgNone,
    /// HS256 keyed with the published key's PEM (the algorithm-confusion attack), kid "k1".
    Hs256WithPublicKey,
    /// Not a JWT at all.
    Malformed,
}

impl Tamper {
    /// Every variant, the valid [`ExtraAudienceWithAzp`](Tamper::ExtraAudienceWithAzp) included.
    pub const ALL: [Tamper; 15] = {
        use Tamper::*;
        [
            WrongIssuer,
            WrongAudience,
            ExtraAudienceWithoutAzp,
            ExtraAudienceWithAzp,
            WrongNonce,
            NoNonce,
            Expired,
            IssuedInFuture,
            NoSubject,
            FlippedSignature,
            OtherKeySameKid,
            UnknownKid,
            AlgNone,
            Hs256WithPublicKey,
            Malformed,
        ]
    };

    /// The ID-token check this tampering fails, as the audit log names it (`IdTokenCheck::as_str`);
    /// `None` for the valid variant.
    pub fn failed_check(self) -> Option<&'static str> {
        use Tamper::*;
        Some(match self {
            WrongIssuer => "issuer",
            WrongAudience | ExtraAudienceWithoutAzp => "audience",
            ExtraAudienceWithAzp => return None,
            WrongNonce | NoNonce => "nonce",
            Expired => "expired",
            IssuedInFuture => "issued_in_future",
            NoSubject => "subject",
            FlippedSignature | OtherKeySameKid => "signature",
            UnknownKid => "key",
            AlgNone | Hs256WithPublicKey => "algorithm",
            Malformed => "malformed",
        })
    }
}

/// An endpoint that can be made to answer 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Token,
    Jwks,
    Userinfo,
}

/// What the provider does; changed through [`FakeOp::script`].
#[derive(Debug, Clone)]
pub struct Script {
    /// Who signs in: taken when `/authorize` approves.
    pub user: OidcUser,
    /// Whether the ID token carries the e-mail, its verification and the names; otherwise only
    /// `/userinfo` has them (as oidc-provider does once an access token is issued).
    pub email_in_id_token: bool,
    /// The name of the e-mail-verified claim ("xms_edov" for Entra).
    pub email_verified_claim: String,
    /// Claims added to the ID token as they are (`tid`, …).
    pub extra_claims: Map<String, Value>,
    /// The user refuses: `/authorize` redirects with `error=access_denied`.
    pub refuse: bool,
    /// `/token` answers 400 `{"error": this}` (after client authentication).
    pub token_error: Option<String>,
    /// How the ID token is made bad.
    pub tamper: Option<Tamper>,
    /// Seconds added to the ID token's `iat` and `exp` (the provider's clock is off).
    pub clock_skew: i64,
    /// `/userinfo`'s `sub` in place of the user's.
    pub userinfo_sub: Option<String>,
    /// Discovery's `issuer` in place of the real one.
    pub discovery_issuer: Option<String>,
    /// Key rotation: the JWKS holds "k1" and "k2" (the other key) and ID tokens are signed with "k2".
    pub rotated: bool,
    /// These endpoints answer 503.
    pub unavailable: Vec<Endpoint>,
}

impl Default for Script {
    /// The default user, every claim in the ID token, nothing wrong.
    fn default() -> Self {
        Self {
            user: OidcUser::default(),
            email_in_id_token: true,
            email_verified_claim: "email_verified".into(),
            extra_claims: Map::new(),
            refuse: false,
            token_error: None,
            tamper: None,
            clock_skew: 0,
            userinfo_sub: None,
            discovery_issuer: None,
            rotated: false,
            unavailable: Vec::new(),
        }
    }
}

/// How many requests each endpoint has had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub discovery: u32,
    pub authorize: u32,
    pub token: u32,
    pub jwks: u32,
    pub userinfo: u32,
}

/// The last authorization request the provider accepted.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub state: String,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub scope: String,
    pub redirect_uri: String,
    /// Every query parameter (`prompt`, `login_hint`, …).
    pub params: HashMap<String, String>,
}

/// Where a provider's `/authorize` sent the browser back: the callback URL and its query.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The whole `Location`.
    pub location: String,
    pub params: HashMap<String, String>,
}

impl Callback {
    pub fn code(&self) -> Option<&str> {
        self.params.get("code").map(String::as_str)
    }
    pub fn state(&self) -> Option<&str> {
        self.params.get("state").map(String::as_str)
    }
    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }
    /// The path and query of the location (`/api/auth/social/{id}/callback/?code=…`), for the router.
    pub fn path_and_query(&self) -> String {
        let url = url::Url::parse(&self.location).unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }
}

/// `BASE64URL(SHA256(verifier))`, the S256 code challenge.
pub fn pkce_challenge(verifier: &str) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()))
}
