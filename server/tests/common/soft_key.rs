//! A software WebAuthn authenticator: a P-256 passkey held in memory that answers the server's
//! creation and request options with what a browser's `PublicKeyCredential.toJSON()` gives
//! (WebAuthn Level 3), written here from the specification with p256 and ciborium, independent of
//! the server's verifier. Every field the server checks can be made wrong through [`Knobs`].

use ciborium::Value as Cbor;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// User present (UP).
const FLAG_UP: u8 = 0x01;
/// User verified (UV).
const FLAG_UV: u8 = 0x04;
/// Backup eligible (BE).
const FLAG_BE: u8 = 0x08;
/// Backed up (BS).
const FLAG_BS: u8 = 0x10;
/// Attested credential data included (AT).
const FLAG_AT: u8 = 0x40;
/// COSE's ES256: ECDSA with P-256 and SHA-256.
const ES256: i64 = -7;

/// base64url without padding, the encoding of every binary field of the JSON forms.
pub fn b64url(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

/// The bytes of a base64url string without padding; panics on anything else.
pub fn unb64url(s: &str) -> Vec<u8> {
    data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).expect("base64url without padding")
}

/// What the browser and the authenticator would put in a response; each field can be made wrong.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// clientDataJSON's `origin`.
    pub origin: String,
    /// The RP ID hashed into authenticatorData's rpIdHash.
    pub rp_id: String,
    /// clientDataJSON's `challenge` (base64url) in place of the options' challenge.
    pub challenge: Option<String>,
    /// The UP flag (0x01).
    pub user_present: bool,
    /// The UV flag (0x04).
    pub user_verified: bool,
    /// The BE flag (0x08).
    pub backup_eligible: bool,
    /// The BS flag (0x10).
    pub backed_up: bool,
    /// The signCount to give (and keep) in place of the key's own counter.
    pub counter: Option<u32>,
    /// An assertion's signature made over other data (registrations, attested by "none", have none).
    pub bad_signature: bool,
    /// An assertion's userHandle in place of the registered one; `Some(None)` leaves it out.
    pub user_handle: Option<Option<Vec<u8>>>,
    /// A registration's `response.transports`.
    pub transports: Vec<String>,
    /// clientDataJSON's `type` in place of "webauthn.create" or "webauthn.get".
    pub ceremony_type: Option<String>,
}

impl Default for Knobs {
    /// A browser on `http://localhost:8000`, a platform authenticator that verified its user, and
    /// nothing wrong.
    fn default() -> Self {
        Self {
            origin: "http://localhost:8000".into(),
            rp_id: "localhost".into(),
            challenge: None,
            user_present: true,
            user_verified: true,
            backup_eligible: false,
            backed_up: false,
            counter: None,
            bad_signature: false,
            user_handle: None,
            transports: vec!["internal".into()],
            ceremony_type: None,
        }
    }
}

/// A P-256 passkey held in memory, as a platform authenticator holds it.
#[derive(Debug, Clone)]
pub struct SoftKey {
    /// 16 random bytes.
    pub credential_id: Vec<u8>,
    /// The signCount of the last response: 0 after registering, one more at each assertion.
    pub counter: u32,
    /// The `user.id` of the creation options answered (the handle assertions give back).
    pub user_handle: Option<Vec<u8>>,
    key: SigningKey,
}

impl Default for SoftKey {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftKey {
    /// A new key pair and credential id, not registered anywhere yet.
    pub fn new() -> Self {
        Self {
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            counter: 0,
            user_handle: None,
            key: SigningKey::random(&mut rand::rngs::OsRng),
        }
    }

    /// base64url (no padding) of the credential id: the `id` of the responses and of the server's list.
    pub fn id(&self) -> String {
        b64url(&self.credential_id)
    }

    /// Answers `publicKey` creation options (the JSON object the server returns under "publicKey",
    /// i.e. PublicKeyCredentialCreationOptionsJSON) with a RegistrationResponseJSON (`toJSON()` form).
    pub fn register(&mut self, public_key: &Value, knobs: &Knobs) -> Value {
        let user_id = public_key["user"]["id"].as_str().expect("options' user.id");
        self.user_handle = Some(unb64url(user_id));
        self.counter = knobs.counter.unwrap_or(self.counter);
        let client_data = client_data_json("webauthn.create", public_key, knobs);

        let point = self.key.verifying_key().to_encoded_point(false);
        let cose_key = Cbor::Map(vec![
            (1.into(), 2.into()),     // kty: EC2
            (3.into(), ES256.into()), // alg: ES256
            ((-1).into(), 1.into()),  // crv: P-256
            ((-2).into(), Cbor::Bytes(point.x().expect("uncompressed point").to_vec())),
            ((-3).into(), Cbor::Bytes(point.y().expect("uncompressed point").to_vec())),
        ]);
        let mut auth_data = authenticator_data(knobs, FLAG_AT, self.counter);
        auth_data.extend_from_slice(&[0; 16]); // AAGUID: none
        auth_data.extend_from_slice(&u16::try_from(self.credential_id.len()).unwrap().to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cbor(&cose_key));

        let attestation_object = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth_data.clone())),
        ]);
        let spki = self.key.verifying_key().to_public_key_der().expect("SPKI of a P-256 key");
        self.credential(json!({
            "clientDataJSON": b64url(&client_data),
            "attestationObject": b64url(&cbor(&attestation_object)),
            "transports": knobs.transports,
            "authenticatorData": b64url(&auth_data),
            "publicKey": b64url(spki.as_bytes()),
            "publicKeyAlgorithm": ES256,
        }))
    }

    /// Answers request options (PublicKeyCredentialRequestOptionsJSON under "publicKey") with an
    /// AuthenticationResponseJSON (`toJSON()` form).
    pub fn assert(&mut self, public_key: &Value, knobs: &Knobs) -> Value {
        self.counter = knobs.counter.unwrap_or_else(|| self.counter.wrapping_add(1));
        let client_data = client_data_json("webauthn.get", public_key, knobs);
        let auth_data = authenticator_data(knobs, 0, self.counter);

        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        if knobs.bad_signature {
            // A well-formed signature, of other data.
            *signed.last_mut().unwrap() ^= 0x01;
        }
        let signature: Signature = self.key.sign(&signed);

        let mut response = json!({
            "clientDataJSON": b64url(&client_data),
            "authenticatorData": b64url(&auth_data),
            "signature": b64url(signature.to_der().as_bytes()),
        });
        let user_handle = knobs.user_handle.as_ref().unwrap_or(&self.user_handle);
        if let Some(handle) = user_handle {
            response["userHandle"] = b64url(handle).into();
        }
        self.credential(response)
    }

    /// A `PublicKeyCredential.toJSON()` of this key around `response`.
    fn credential(&self, response: Value) -> Value {
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
    }
}

/// The bytes of clientDataJSON for a ceremony of `default_type` answering `public_key`'s challenge,
/// serialized as browsers do: members in the specification's order (`json!` would sort them), no
/// whitespace.
fn client_data_json(default_type: &str, public_key: &Value, knobs: &Knobs) -> Vec<u8> {
    let challenge = match &knobs.challenge {
        Some(challenge) => challenge.as_str(),
        None => public_key["challenge"].as_str().expect("options' challenge"),
    };
    let string = |s: &str| serde_json::to_string(s).unwrap();
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        string(knobs.ceremony_type.as_deref().unwrap_or(default_type)),
        string(challenge),
        string(&knobs.origin),
    )
    .into_bytes()
}

/// authenticatorData up to the signCount: rpIdHash, flags (the knobs' and `extra`), signCount.
fn authenticator_data(knobs: &Knobs, extra: u8, counter: u32) -> Vec<u8> {
    let mut flags = extra;
    for (on, flag) in [
        (knobs.user_present, FLAG_UP),
        (knobs.user_verified, FLAG_UV),
        (knobs.backup_eligible, FLAG_BE),
        (knobs.backed_up, FLAG_BS),
    ] {
        if on {
            flags |= flag;
        }
    }
    let mut data = Sha256::digest(knobs.rp_id.as_bytes()).to_vec();
    data.push(flags);
    data.extend_from_slice(&counter.to_be_bytes());
    data
}

/// The CBOR encoding of `value`.
fn cbor(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).unwrap();
    bytes
}
