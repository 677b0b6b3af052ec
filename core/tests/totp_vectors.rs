//! Known-answer tests: RFC 4226 and RFC 6238 codes and `otpauth://` cases from `tests/vectors/`.
//!
//! The npm package's tests read the same files, so both targets prove the same answers.
#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use latchkey_core::totp::{code_at, verify, Algorithm, OtpauthUri, TotpParams, TotpSecret};
use serde_json::Value;

const RFC4226: &str = include_str!("../../tests/vectors/rfc4226.json");
const RFC6238: &str = include_str!("../../tests/vectors/rfc6238.json");
const OTPAUTH: &str = include_str!("../../tests/vectors/otpauth.json");

fn cases<'a>(file: &'a Value, key: &str) -> &'a [Value] {
    let cases = file[key].as_array().unwrap_or_else(|| panic!("no {key} array"));
    assert!(!cases.is_empty(), "{key} is empty");
    cases
}

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {case}"))
}

fn number(case: &Value, key: &str) -> u64 {
    case[key].as_u64().unwrap_or_else(|| panic!("{key} is not a number in {case}"))
}

fn params_from(value: &Value) -> TotpParams {
    let algorithm: Algorithm = text(value, "algorithm").parse().unwrap();
    let digits = u8::try_from(number(value, "digits")).unwrap();
    TotpParams::new(algorithm, digits, number(value, "period")).unwrap()
}

/// Builds the `OtpauthUri` a vector describes, field by field, so the test does not depend on serde.
fn uri_from(value: &Value) -> OtpauthUri {
    OtpauthUri {
        secret: TotpSecret::from_base32(text(value, "secret")).unwrap(),
        issuer: value["issuer"].as_str().map(str::to_owned),
        account: text(value, "account").to_owned(),
        params: params_from(&value["params"]),
    }
}

#[test]
fn rfc4226_hotp_values() {
    let file: Value = serde_json::from_str(RFC4226).unwrap();
    let cases = cases(&file, "cases");
    assert_eq!(cases.len(), 10);
    // HOTP is TOTP with a one-second period read at time = counter.
    let params = TotpParams::new(Algorithm::Sha1, 6, 1).unwrap();
    for case in cases {
        let secret = TotpSecret::from_base32(text(case, "secret")).unwrap();
        let counter = number(case, "counter");
        assert_eq!(code_at(&secret, &params, counter), text(case, "hotp"), "counter {counter}");
    }
}

#[test]
fn rfc6238_totp_values() {
    let file: Value = serde_json::from_str(RFC6238).unwrap();
    let cases = cases(&file, "cases");
    assert_eq!(cases.len(), 18);
    for case in cases {
        let secret = TotpSecret::from_base32(text(case, "secret")).unwrap();
        let algorithm: Algorithm = text(case, "algorithm").parse().unwrap();
        let digits = u8::try_from(number(case, "digits")).unwrap();
        let params = TotpParams::new(algorithm, digits, number(case, "period")).unwrap();
        let (time, step, expected) = (number(case, "time"), number(case, "step"), text(case, "totp"));
        assert_eq!(code_at(&secret, &params, time), expected, "{algorithm} at {time}");
        assert_eq!(verify(&secret, &params, expected, time, 1, None), Ok(step), "{algorithm} at {time}");
        // The 6-digit variant is the last six digits.
        let six = TotpParams::new(algorithm, 6, params.period()).unwrap();
        assert_eq!(code_at(&secret, &six, time), expected[2..], "{algorithm} at {time}, 6 digits");
    }
}

#[test]
fn otpauth_build_cases() {
    let file: Value = serde_json::from_str(OTPAUTH).unwrap();
    for case in cases(&file, "build") {
        let uri = uri_from(&case["input"]);
        assert_eq!(uri.to_uri().as_deref(), Ok(text(case, "uri")), "{}", text(case, "name"));
    }
    for case in cases(&file, "build_reject") {
        let error = uri_from(&case["input"]).to_uri().unwrap_err();
        assert_eq!(error.code(), text(case, "error"), "{}", text(case, "name"));
    }
}

#[test]
fn otpauth_parse_cases() {
    let file: Value = serde_json::from_str(OTPAUTH).unwrap();
    for case in cases(&file, "parse") {
        let parsed = OtpauthUri::parse(text(case, "uri"));
        assert_eq!(parsed, Ok(uri_from(&case["expected"])), "{}", text(case, "name"));
    }
    for case in cases(&file, "parse_reject") {
        let error = OtpauthUri::parse(text(case, "uri")).unwrap_err();
        assert_eq!(error.code(), text(case, "error"), "{}", text(case, "name"));
        assert!(!error.to_string().is_empty());
    }
}

#[cfg(feature = "serde")]
#[test]
fn otpauth_vectors_use_the_serde_form() {
    let file: Value = serde_json::from_str(OTPAUTH).unwrap();
    for case in cases(&file, "build") {
        let from_serde: OtpauthUri = serde_json::from_value(case["input"].clone()).unwrap();
        assert_eq!(from_serde, uri_from(&case["input"]), "{}", text(case, "name"));
        assert_eq!(serde_json::to_value(&from_serde).unwrap(), case["input"], "{}", text(case, "name"));
    }
}
