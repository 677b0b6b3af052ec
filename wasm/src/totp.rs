//! TOTP enrollment in the browser: secrets, otpauth URIs, QR codes, code preview, and backup-code
//! normalization, all computed by the core the server uses.

use latchkey_core::backup;
use latchkey_core::json::Object;
use latchkey_core::totp::{self, Algorithm, OtpauthUri, TotpParams, TotpSecret};
use rand_core::OsRng;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::error::{error, invalid, json_arg, string_arg, time_arg, to_js, JsResult};

const PARAMS: [&str; 3] = ["algorithm", "digits", "period"];

/// Reads `{algorithm?, digits?, period?}` (plus `extra` fields the caller reads) from `options`.
fn options<'a>(value: &'a Option<Value>, extra: &[&str]) -> JsResult<Option<Object<'a>>> {
    let known: Vec<&str> = PARAMS.iter().chain(extra).copied().collect();
    value.as_ref().map(|v| Object::new(v, &known).map_err(invalid("options"))).transpose()
}

/// The TOTP parameters in `o`, defaults for what is absent.
fn params(o: Option<&Object>) -> JsResult<TotpParams> {
    let defaults = TotpParams::default();
    let Some(o) = o else { return Ok(defaults) };
    let algorithm = match o.string("algorithm").map_err(invalid("options"))? {
        Some(name) => name.parse::<Algorithm>().map_err(error)?,
        None => defaults.algorithm(),
    };
    let digits = o.integer("digits", 255, "6 or 8").map_err(invalid("options"))?.map_or(defaults.digits(), |d| d as u8);
    let period = o.integer("period", u64::MAX, "a positive integer").map_err(invalid("options"))?;
    TotpParams::new(algorithm, digits, period.unwrap_or(defaults.period())).map_err(error)
}

/// A new random TOTP secret: 160 bits, base32 without padding.
#[wasm_bindgen(js_name = generateTotpSecret, skip_typescript)]
pub fn generate_totp_secret() -> String {
    TotpSecret::generate(&mut OsRng).to_base32()
}

/// An `otpauth://totp/…` URI in the Key URI format (issuer as label prefix and as parameter).
#[wasm_bindgen(js_name = totpUri, skip_typescript)]
pub fn totp_uri(options: JsValue) -> JsResult<String> {
    let value =
        json_arg("options", &options)?.ok_or_else(|| error("totpUri expects an object {secret, issuer, account}"))?;
    let o = Object::new(&value, &["secret", "issuer", "account", "algorithm", "digits", "period"])
        .map_err(invalid("options"))?;
    let secret = o.required_string("secret").map_err(invalid("options"))?;
    let uri = OtpauthUri {
        secret: TotpSecret::from_base32(&secret).map_err(error)?,
        issuer: o.string("issuer").map_err(invalid("options"))?.filter(|i| !i.is_empty()),
        account: o.required_string("account").map_err(invalid("options"))?,
        params: params(Some(&o))?,
    };
    uri.to_uri().map_err(error)
}

#[derive(Serialize)]
struct ParsedUriJs {
    secret: String,
    issuer: Option<String>,
    account: String,
    algorithm: &'static str,
    digits: u8,
    period: u64,
}

/// Parses an otpauth URI into `{secret, issuer, account, algorithm, digits, period}`.
#[wasm_bindgen(js_name = parseOtpauthUri, skip_typescript)]
pub fn parse_otpauth_uri(uri: JsValue) -> JsResult<JsValue> {
    let parsed = OtpauthUri::parse(&string_arg("uri", &uri)?).map_err(error)?;
    to_js(&ParsedUriJs {
        secret: parsed.secret.to_base32(),
        issuer: parsed.issuer,
        account: parsed.account,
        algorithm: parsed.params.algorithm().as_str(),
        digits: parsed.params.digits(),
        period: parsed.params.period(),
    })
}

/// The QR code of `uri` as an SVG document.
#[wasm_bindgen(js_name = totpQrSvg, skip_typescript)]
pub fn totp_qr_svg(uri: JsValue) -> JsResult<String> {
    totp::qr_svg(&string_arg("uri", &uri)?).map_err(error)
}

/// The code for `secret` at `time` (default now), zero-padded.
#[wasm_bindgen(js_name = totpCode, skip_typescript)]
pub fn totp_code(secret: JsValue, time: JsValue, options: JsValue) -> JsResult<String> {
    let secret = TotpSecret::from_base32(&string_arg("secret", &secret)?).map_err(error)?;
    let time = time_arg("time", &time)?;
    let options = json_arg("options", &options)?;
    let params = params(self::options(&options, &[])?.as_ref())?;
    Ok(totp::code_at(&secret, &params, time))
}

#[derive(Serialize)]
struct VerificationJs {
    valid: bool,
    step: Option<u64>,
}

/// Checks `code` at `time` (default now) with a window of one step either side: `{valid, step}`.
/// A malformed code is `{valid: false}` like a wrong one; only bad arguments throw.
#[wasm_bindgen(js_name = verifyTotp, skip_typescript)]
pub fn verify_totp(secret: JsValue, code: JsValue, time: JsValue, options: JsValue) -> JsResult<JsValue> {
    let secret = TotpSecret::from_base32(&string_arg("secret", &secret)?).map_err(error)?;
    let code = string_arg("code", &code)?;
    let time = time_arg("time", &time)?;
    let options = json_arg("options", &options)?;
    let o = self::options(&options, &["window", "lastStep"])?;
    let window = match &o {
        Some(o) => o.integer("window", 10, "an integer between 0 and 10").map_err(invalid("options"))?,
        None => None,
    };
    let last_step = match &o {
        Some(o) => o.integer("lastStep", u64::MAX, "a non-negative integer").map_err(invalid("options"))?,
        None => None,
    };
    let params = params(o.as_ref())?;
    let step = totp::verify(&secret, &params, &code, time, window.map_or(1, |w| w as u8), last_step).ok();
    to_js(&VerificationJs { valid: step.is_some(), step })
}

/// The canonical form of a typed backup code (lowercase, no spaces or dashes), as the server compares it.
#[wasm_bindgen(js_name = normalizeBackupCode, skip_typescript)]
pub fn normalize_backup_code(code: JsValue) -> JsResult<String> {
    backup::normalize_backup_code(&string_arg("code", &code)?).map_err(error)
}
