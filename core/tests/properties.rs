//! Property tests of the core's parsers that read client input: the base32 / base64url / hex codecs
//! (against `data-encoding`), the strict JSON field reader, `otpauth://` URIs, TOTP codes, and JWT
//! decoding and verification. Native only: proptest does not build for wasm32.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use data_encoding::{Encoding, BASE32_NOPAD, BASE64URL_NOPAD, HEXLOWER, HEXLOWER_PERMISSIVE};
use latchkey_core::encoding::{hex, unbase64url, unhex};
use latchkey_core::json::{FieldError, Object};
use latchkey_core::token::{decode_unverified, seconds_left, Segment, TokenError, MAX_TOKEN_LEN};
use latchkey_core::totp::{self, Algorithm, OtpauthUri, TotpError, TotpParams, TotpSecret};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
#[cfg(feature = "jwt")]
use {
    latchkey_core::token::{Algorithm as Alg, Claims, Expectations, Keys, TokenType},
    proptest::sample::Index,
    std::sync::LazyLock,
};

/// A fixed number of cases, and no regression files written into the source tree.
fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Characters that break naive parsers: controls, quotes and backslashes, URI delimiters, Unicode
/// whitespace, combining marks, U+FDFA (NFKC expands it to 18 characters), non-BMP characters.
const TRICKY: &str = "\0\u{1f}\"\\/:%+&=?# \t\u{a0}\u{2028}\u{301}\u{fdfa}\u{feff}\u{fffd}\u{1f600}\u{10ffff}aZ";

/// Up to `max` characters from [`TRICKY`].
fn tricky_chars(max: usize) -> impl Strategy<Value = String> {
    vec(select(TRICKY.chars().collect::<Vec<_>>()), 0..max).prop_map(String::from_iter)
}

/// Arbitrary text, [`tricky_chars`], or up to 2000 repetitions of one tricky character.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        tricky_chars(max),
        (select(TRICKY.chars().collect::<Vec<_>>()), 0..2000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// Any JSON value, nested, with strings from [`tricky_text`]. Floats are dyadic with few digits:
/// serde_json's parser, without its `float_roundtrip` feature, may be one ULP off on others.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 8.0)),
        tricky_text(16).prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((tricky_text(8), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// base32 with the trailing bits of the last character ignored, as `TotpSecret::from_base32` does.
fn lenient_base32() -> Encoding {
    let mut spec = BASE32_NOPAD.specification();
    spec.check_trailing_bits = false;
    spec.encoding().unwrap()
}

/// Text that is mostly made of a codec's alphabet, so that decoders get past the first symbol.
fn codec_text(alphabet: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), vec(select(alphabet.chars().collect::<Vec<_>>()), 0..48).prop_map(String::from_iter)]
}

/// `TotpSecret`'s verdict on what a reference decoder made of its text: too short below 80 bits.
fn secret_verdict<E>(decoded: Result<Vec<u8>, E>, invalid: TotpError) -> Result<Vec<u8>, TotpError> {
    match decoded {
        Err(_) => Err(invalid),
        Ok(bytes) if bytes.len() < 10 => Err(TotpError::SecretTooShort { bits: bytes.len() * 8 }),
        Ok(bytes) => Ok(bytes),
    }
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn encoders_write_what_data_encoding_writes_and_decoders_invert_them(
        bytes in vec(any::<u8>(), 0..96),
    ) {
        prop_assert_eq!(hex(&bytes), HEXLOWER.encode(&bytes));
        prop_assert_eq!(unhex(&hex(&bytes)), Some(bytes.clone()));
        prop_assert_eq!(unhex(&hex(&bytes).to_uppercase()), Some(bytes.clone()));
        prop_assert_eq!(unbase64url(&BASE64URL_NOPAD.encode(&bytes)), Some(bytes.clone()));
        #[cfg(feature = "jwt")]
        prop_assert_eq!(latchkey_core::encoding::base64url(&bytes), BASE64URL_NOPAD.encode(&bytes));
        if let Ok(secret) = TotpSecret::from_bytes(&bytes) {
            prop_assert_eq!(secret.to_base32(), BASE32_NOPAD.encode(&bytes));
            prop_assert_eq!(TotpSecret::from_base32(&secret.to_base32()), Ok(secret.clone()));
            prop_assert_eq!(TotpSecret::from_base32(&secret.to_base32().to_lowercase()), Ok(secret.clone()));
            prop_assert_eq!(TotpSecret::from_hex(&secret.to_hex()), Ok(secret));
        }
    }

    #[test]
    fn decoders_accept_exactly_what_data_encoding_accepts(
        hex_text in codec_text("0123456789abcdefABCDEFg ="),
        base64_text in codec_text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= ."),
    ) {
        let reference = HEXLOWER_PERMISSIVE.decode(hex_text.as_bytes());
        prop_assert_eq!(unhex(&hex_text), reference.clone().ok());
        let secret = TotpSecret::from_hex(&hex_text).map(|s| s.as_bytes().to_vec());
        prop_assert_eq!(secret, secret_verdict(reference, TotpError::InvalidHexSecret));
        prop_assert_eq!(unbase64url(&base64_text), BASE64URL_NOPAD.decode(base64_text.as_bytes()).ok());
    }

    /// Spaces anywhere, any case, trailing `=`, unused trailing bits: the verdict `data-encoding`
    /// gives on the cleaned-up text, and the same bytes.
    #[test]
    fn totp_secret_base32_agrees_with_data_encoding(text in codec_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abz19 =")) {
        let compact = text.replace(' ', "").to_ascii_uppercase();
        let reference = lenient_base32().decode(compact.trim_end_matches('=').as_bytes());
        let secret = TotpSecret::from_base32(&text).map(|s| s.as_bytes().to_vec());
        prop_assert_eq!(secret, secret_verdict(reference, TotpError::InvalidBase32Secret));
    }
}

const FIELDS: [&str; 5] = ["name", "count", "flag", "ratio", "absent"];

/// Objects over `names` with values from `values`.
fn object_over(names: &[&'static str], values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(select(names.to_vec()).prop_map(str::to_owned), values, 0..6)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

/// The reader's verdict against serde's `Option<T>` deserialization of the field (`None`: refused).
fn agrees<T: PartialEq + std::fmt::Debug>(
    ours: Result<Option<T>, FieldError>,
    serde: Option<Option<T>>,
    field: &str,
    expected: &str,
) -> Result<(), TestCaseError> {
    match (ours, serde) {
        (Ok(ours), Some(serde)) => prop_assert_eq!(ours, serde),
        (Err(FieldError::WrongType { field: f, expected: e }), None) => {
            prop_assert_eq!((f.as_str(), e), (field, expected));
        }
        (ours, serde) => prop_assert!(false, "{field}: reader {ours:?}, serde {serde:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(1000))]

    /// `Object` replaces `#[derive(Deserialize)]` with `deny_unknown_fields` for bundle size: it
    /// must give the derive's verdicts, field by field.
    #[test]
    fn json_object_reader_agrees_with_serde_field_by_field(
        value in prop_oneof![3 => object_over(&[&FIELDS[..], &["unknown"]].concat(), json_value()), 1 => json_value()],
        known in 0..=FIELDS.len(),
        max in prop_oneof![0..10u64, any::<u64>()],
    ) {
        let known = &FIELDS[..known];
        match Object::new(&value, known) {
            Err(FieldError::NotAnObject) => prop_assert!(!value.is_object()),
            Err(FieldError::UnknownField { field, expected }) => {
                prop_assert!(value.get(&field).is_some() && !known.contains(&field.as_str()));
                prop_assert!(known.iter().all(|k| expected.contains(&format!("`{k}`"))), "{}", expected);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
            Ok(object) => {
                let map = value.as_object().unwrap();
                prop_assert!(map.keys().all(|k| known.contains(&k.as_str())));
                for &field in known {
                    let raw = map.get(field).cloned().unwrap_or(Value::Null);
                    prop_assert_eq!(object.has(field), map.contains_key(field));
                    agrees(object.string(field), serde_json::from_value(raw.clone()).ok(), field, "a string")?;
                    agrees(object.boolean(field), serde_json::from_value(raw.clone()).ok(), field, "a boolean")?;
                    agrees(object.number(field), serde_json::from_value(raw.clone()).ok(), field, "a number")?;
                    let bounded: Option<Option<u64>> = serde_json::from_value(raw.clone()).ok();
                    let bounded = bounded.filter(|n| n.is_none_or(|n| n <= max));
                    agrees(object.integer(field, max, "at most max"), bounded, field, "at most max")?;
                    if raw.is_null() {
                        prop_assert_eq!(object.required_string(field), Err(FieldError::Missing(field.to_owned())));
                    }
                }
            }
        }
    }

    /// The npm package's policy and user-attribute readers never panic, and a policy they accept
    /// writes back to JSON that reads as the same policy.
    #[cfg(feature = "serde")]
    #[test]
    fn policy_and_user_attributes_from_json_never_panic_and_round_trip(value in prop_oneof![
        json_value(),
        object_over(
            &["min_length", "max_length_bytes", "max_similarity", "reject_common", "min_score", "history",
                "fingerprint", "email", "username", "first_name", "last_name"],
            prop_oneof![json_value(), (0..300u64).prop_map(Value::from)],
        ),
    ]) {
        use latchkey_core::policy::{PasswordPolicy, UserAttributes};
        let _ = UserAttributes::from_json(&value);
        if let Ok(policy) = PasswordPolicy::from_json(&value) {
            prop_assert_eq!(PasswordPolicy::from_json(&serde_json::to_value(&policy).unwrap()), Ok(policy));
        }
    }
}

/// Label text without colons (which `to_uri` refuses).
fn label_text() -> impl Strategy<Value = String> {
    prop_oneof![tricky_chars(12), "[^:]{0,24}", "[ a-zA-Z0-9@._%+&?#=/~-]{1,24}"].prop_map(|s| s.replace(':', ""))
}

prop_compose! {
    /// Valid parameters for an enrolment URI. With an issuer, leading spaces of the account are
    /// left out: the Key URI format reads spaces after the label's colon as a separator, so
    /// `to_uri` cannot carry them (see `otpauth_parse_never_panics_and_rebuilds_what_it_accepts`).
    fn valid_uri()(
        secret in vec(any::<u8>(), 10..64),
        issuer in proptest::option::of(label_text()),
        account in label_text(),
        algorithm in select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]),
        digits in select(vec![6u8, 8]),
        period in prop_oneof![1..=120u64, 1..=u64::MAX],
    ) -> OtpauthUri {
        let issuer = issuer.filter(|issuer| !issuer.is_empty());
        let account = if issuer.is_some() { account.trim_start_matches(' ').to_owned() } else { account };
        OtpauthUri {
            secret: TotpSecret::from_bytes(&secret).unwrap(),
            issuer,
            account: if account.is_empty() { "x".to_owned() } else { account },
            params: TotpParams::new(algorithm, digits, period).unwrap(),
        }
    }
}

/// Rewrites a `to_uri` URI in ways the format allows: scheme case, an encoded colon, spaces before
/// the account, parameters reordered, lower-cased, dropped when default, unknown ones added.
fn variant(uri: &str, flags: u8, rotate: usize) -> String {
    let (head, query) = uri.split_once('?').unwrap();
    let label = head.strip_prefix("otpauth://totp/").unwrap();
    let scheme = if flags & 1 != 0 { "OtpAuth://TOTP/" } else { "otpauth://totp/" };
    let label = match label.split_once(':') {
        Some((issuer, account)) if flags & 2 != 0 => format!("{issuer}%3A%20{account}"),
        Some((issuer, account)) if flags & 4 != 0 => format!("{issuer}: {account}"),
        _ => label.to_owned(),
    };
    let mut pairs: Vec<String> = query.split('&').map(str::to_owned).collect();
    if flags & 8 != 0 {
        pairs.retain(|p| !matches!(p.as_str(), "algorithm=SHA1" | "digits=6" | "period=30"));
    }
    if flags & 16 != 0 {
        pairs = pairs.into_iter().map(|p| p.to_lowercase()).filter(|p| !p.starts_with("issuer=")).collect();
        pairs.push(query.split('&').find(|p| p.starts_with("issuer=")).unwrap_or_default().to_owned());
    }
    if flags & 32 != 0 {
        pairs.push("image=https%3A%2F%2Fexample.com%2Flogo.png".to_owned());
    }
    let len = pairs.len();
    pairs.rotate_left(rotate % len);
    format!("{scheme}{label}?{}", pairs.join("&"))
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn otpauth_uri_built_from_valid_parameters_parses_back_in_every_form_the_format_allows(
        uri in valid_uri(), flags in any::<u8>(), rotate in 0..8usize,
    ) {
        let text = uri.to_uri().unwrap();
        prop_assert_eq!(OtpauthUri::parse(&text), Ok(uri.clone()));
        let text = variant(&text, flags, rotate);
        prop_assert_eq!(OtpauthUri::parse(&text), Ok(uri), "{}", text);
    }

    /// Arbitrary text, text behind the right prefix, and valid URIs with one character changed.
    #[test]
    fn otpauth_parse_never_panics_and_rebuilds_what_it_accepts(text in prop_oneof![
        any::<String>(),
        tricky_text(64).prop_map(|tail| format!("otpauth://totp/{tail}")),
        (valid_uri(), any::<prop::sample::Index>(), tricky_chars(3)).prop_map(|(uri, at, with)| {
            let mut chars: Vec<char> = uri.to_uri().unwrap().chars().collect();
            chars.splice(at.index(chars.len())..=at.index(chars.len()), with.chars());
            String::from_iter(chars)
        }),
    ]) {
        let Ok(uri) = OtpauthUri::parse(&text) else { return Ok(()) };
        prop_assert!(!uri.account.is_empty() && !uri.account.contains(':'));
        prop_assert!(uri.issuer.as_deref().is_none_or(|issuer| !issuer.is_empty() && !issuer.contains(':')));
        match uri.to_uri() {
            // Decoded text re-encodes longer (`+` and raw UTF-8 become `%..`), past the limit.
            Err(TotpError::UriTooLong { .. }) => {}
            Err(other) => prop_assert!(false, "{text:?} parsed, then to_uri: {other:?}"),
            Ok(rebuilt) => {
                // With an issuer, leading spaces of the account read as part of the label's separator.
                let account = if uri.issuer.is_some() { uri.account.trim_start_matches(' ') } else { &uri.account };
                let expected = match account {
                    "" => Err(TotpError::MissingAccount),
                    account => Ok(OtpauthUri { account: account.to_owned(), ..uri.clone() }),
                };
                prop_assert_eq!(OtpauthUri::parse(&rebuilt), expected);
            }
        }
    }

    #[test]
    fn totp_codes_are_strict_and_the_current_code_verifies(
        bytes in vec(any::<u8>(), 10..40), time in any::<u64>(), digits in select(vec![6u8, 8]),
        typed in prop_oneof![tricky_text(12), "[0-9 ]{0,12}", "[0-9]{6}", "[0-9]{8}"],
    ) {
        let secret = TotpSecret::from_bytes(&bytes).unwrap();
        let params = TotpParams::new(Algorithm::Sha1, digits, 30).unwrap();
        let spaced: String = totp::code_at(&secret, &params, time).chars().flat_map(|c| [c, ' ']).collect();
        prop_assert_eq!(totp::verify(&secret, &params, &spaced, time, 0, None), Ok(time / 30));
        let compact: String = typed.chars().filter(|c| *c != ' ').collect();
        let digits_only = compact.len() == usize::from(digits) && compact.bytes().all(|b| b.is_ascii_digit());
        let verdict = totp::verify(&secret, &params, &typed, time, 1, None);
        let malformed = verdict == Err(TotpError::MalformedCode { digits });
        prop_assert_eq!(malformed, typed.len() > 64 || !digits_only, "{:?}", verdict);
    }
}

/// JSON text with every non-ASCII character as `\u` escapes (surrogate pairs beyond the BMP),
/// the way Python's `json.dumps`, and so PyJWT, writes it.
fn ascii_escaped(text: &str) -> String {
    let escape = |c: char| c.encode_utf16(&mut [0; 2]).iter().map(|unit| format!("\\u{unit:04x}")).collect();
    text.chars().map(|c| if c.is_ascii() { c.to_string() } else { escape(c) }).collect()
}

/// A claims segment's JSON text: generated objects (ASCII-escaped or not, nested past serde_json's
/// recursion limit or not), raw escapes including lone surrogates, and edited bytes.
fn claims_text() -> impl Strategy<Value = (Vec<u8>, Option<Value>)> {
    let generated =
        (vec((tricky_text(8), json_value()), 0..4), any::<bool>(), 0..160usize).prop_map(|(pairs, escape, depth)| {
            let object = Value::Object(pairs.into_iter().collect::<Map<String, Value>>());
            let text = object.to_string();
            let text = if escape { ascii_escaped(&text) } else { text };
            let deep = format!("{}{}{}", "[".repeat(depth), text, "]".repeat(depth));
            (format!(r#"{{"deep":{deep}}}"#).into_bytes(), Some(object))
        });
    let pieces: Vec<&str> = r#"\ud800 \udc00 \ud83d\ude00 \ud83d \u0000 \uFDFA \\ \" x \x"#.split(' ').collect();
    let escapes =
        vec(select(pieces), 0..6).prop_map(|parts| (format!(r#"{{"s":"{}"}}"#, parts.concat()).into_bytes(), None));
    let edited = (json_value(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(value, at, byte)| {
        let mut bytes = value.to_string().into_bytes();
        let at = at.index(bytes.len());
        bytes[at] = byte;
        (bytes, None)
    });
    prop_oneof![generated, escapes, edited]
}

proptest! {
    #![proptest_config(cases(1000))]

    /// What the claims segment decodes to is exactly what serde_json makes of the same bytes, and
    /// for generated objects that is the object itself.
    #[test]
    fn decode_unverified_agrees_with_serde_json_on_the_claims((text, generated) in claims_text()) {
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{}.c2ln", BASE64URL_NOPAD.encode(&text));
        let expected = if token.len() > MAX_TOKEN_LEN {
            Err(TokenError::TooLong { len: token.len(), max: MAX_TOKEN_LEN })
        } else {
            match std::str::from_utf8(&text).map(serde_json::from_str::<Value>) {
                Err(_) => Err(TokenError::NotUtf8(Segment::Claims)),
                Ok(Ok(Value::Object(claims))) => Ok(claims),
                Ok(_) => Err(TokenError::NotJsonObject(Segment::Claims)),
            }
        };
        let decoded = decode_unverified(&token).map(|token| token.claims);
        if let (Ok(claims), Some(generated)) = (&decoded, generated) {
            let mut inner = &claims["deep"];
            while let Some([only]) = inner.as_array().map(Vec::as_slice) {
                inner = only;
            }
            prop_assert_eq!(inner, &generated);
        }
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn decode_unverified_never_panics_on_arbitrary_text(text in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/.-]{0,80}",
        vec(codec_text("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9_-"), 3).prop_map(|segments| segments.join(".")),
    ]) {
        match decode_unverified(&text) {
            Ok(_) => prop_assert!(text.split('.').count() == 3 && text.len() <= MAX_TOKEN_LEN),
            Err(error) => prop_assert_eq!(seconds_left(&text, 0), Err(error)),
        }
    }
}

#[cfg(feature = "jwt")]
const NOW: i64 = 1_700_000_000;

/// The vectors' keys for each algorithm, with a token of each that verifies at `NOW`. Built
/// once: checking an RSA pair signs a probe, slow in a debug build.
#[cfg(feature = "jwt")]
static KEYS: LazyLock<Vec<(Keys, String)>> = LazyLock::new(|| {
    let document: Value = serde_json::from_str(include_str!("../../tests/vectors/jwt.json")).unwrap();
    let text = |value: &Value| value.as_str().unwrap().as_bytes().to_vec();
    let rows = document["tokens"].as_array().unwrap();
    ["valid_access", "eddsa_valid", "rs256_valid", "es256_valid"]
        .map(|name| {
            let row = rows.iter().find(|row| row["name"] == name).unwrap();
            let algorithm = row["algorithm"].as_str().unwrap();
            let entry = &document["keys"][algorithm];
            let keys = match Alg::from_name(algorithm).unwrap() {
                Alg::HS256 => Keys::hs256(&text(&entry["secret"])),
                other => Keys::from_pem(other, &text(&entry["private_pem"]), &text(&entry["public_pem"])),
            };
            (keys.unwrap(), row["token"].as_str().unwrap().to_owned())
        })
        .into()
});

/// One edit of a token: a changed ASCII byte, a byte deleted or inserted, a truncation, two
/// segments swapped, one duplicated, or the signature of another algorithm's token.
#[cfg(feature = "jwt")]
fn mutate(token: &str, other: &str, kind: u8, at: Index, byte: u8) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = at.index(bytes.len());
    let segments: Vec<&str> = token.split('.').collect();
    match kind % 7 {
        0 => bytes[at] ^= (byte % 0x7f).max(1),
        1 => drop(bytes.remove(at)),
        2 => bytes.insert(at, b' ' + byte % 95),
        3 => bytes.truncate(at),
        4 => return [segments[1], segments[0], segments[2]].join("."),
        5 => return [segments[0], segments[1], segments[1]].join("."),
        _ => return format!("{}.{}.{}", segments[0], segments[1], other.rsplit('.').next().unwrap()),
    }
    String::from_utf8(bytes).unwrap()
}

#[cfg(feature = "jwt")]
proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn mutated_tokens_never_verify(
        which in 0..4usize, kind in any::<u8>(), at in any::<Index>(), byte in any::<u8>(),
    ) {
        let (key, token) = &KEYS[which];
        let expect = Expectations::default();
        prop_assert!(key.verify(token, Some(TokenType::Access), NOW, &expect).is_ok());
        let mutated = mutate(token, &KEYS[(which + 1) % 4].1, kind, at, byte);
        prop_assert_ne!(&mutated, token);
        for (key, _) in KEYS.iter() {
            let verdict = key.verify(&mutated, None, NOW, &expect);
            prop_assert!(verdict.is_err(), "{} accepted {:?}: {:?}", key.algorithm(), mutated, verdict);
        }
    }

    #[test]
    fn arbitrary_strings_never_verify(text in prop_oneof![any::<String>(), "[A-Za-z0-9_.-]{0,200}"]) {
        for (keys, _) in KEYS.iter() {
            prop_assert!(keys.verify(&text, None, NOW, &Expectations::default()).is_err());
        }
    }

    /// A freshly signed HS256 token verifies to its own claims, and with another secret or
    /// once edited it does not.
    #[test]
    fn a_valid_token_verifies_and_only_with_its_own_key(
        secret in vec(any::<u8>(), 32..64), other in vec(any::<u8>(), 32..64),
        user_id in tricky_chars(12).prop_filter("user_id", |id| !id.is_empty()),
        now in 0..i64::MAX / 2, lifetime in 1..10_000_000i64,
        kind in select(vec![TokenType::Access, TokenType::Refresh]),
        extra in proptest::collection::btree_map(select(vec!["email", "org", "roles", "mfa"]), json_value(), 0..3),
        edit in (any::<u8>(), any::<Index>(), any::<u8>()),
    ) {
        prop_assume!(secret != other);
        let (Ok(keys), Ok(wrong)) = (Keys::hs256(&secret), Keys::hs256(&other)) else {
            // A random secret that starts like a PEM or JWK key is refused; nothing to sign with.
            return Ok(());
        };
        let mut claims = Claims::new(kind, user_id, now, lifetime, &mut rand_core::OsRng);
        claims.extra = extra.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let token = keys.encode(&claims).unwrap();
        let expect = Expectations::default();
        if token.len() > MAX_TOKEN_LEN {
            // Large extra claims: refused by size before anything else, whoever signed them.
            prop_assert_eq!(keys.verify(&token, Some(kind), now, &expect), Err(TokenError::Invalid));
            return Ok(());
        }
        prop_assert_eq!(keys.verify(&token, Some(kind), now, &expect), Ok(claims));
        prop_assert!(wrong.verify(&token, Some(kind), now, &expect).is_err());
        let mutated = mutate(&token, &token, edit.0 % 4, edit.1, edit.2);
        prop_assert!(keys.verify(&mutated, Some(kind), now, &expect).is_err(), "{}", mutated);
    }
}
