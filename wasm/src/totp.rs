//! TOTP enrollment in the browser: secrets, otpauth URIs, QR codes, code preview, and backup-code
//! normalization, all computed by the core the server uses.

use latchkey_core::backup;
use latchkey_core::totp::{self, Algorithm, OtpauthUri, TotpParams, TotpSecret};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::error::{error, options_arg, string_arg, time_arg, to_js, JsResult};

/// `{algorithm?, digits?, period?}`, shared by every TOTP function.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ParamsJs {
    algorithm: Option<String>,
    digits: Option<u8>,
    period: Option<u64>,
    /// Only for `verifyTotp`: steps accepted either side of now (default 1, at most 10).
    window: Option<u8>,
    /// Only for `verifyTotp`: the last step accepted for this device; it and older steps are refused.
    last_step: Option<u64>,
}

impl ParamsJs {
    fn params(&self) -> JsResult<TotpParams> {
        let defaults = TotpParams::default();
        let algorithm = match &self.algorithm {
            Some(name) => name.parse::<Algorithm>().map_err(error)?,
            None => defaults.algorithm(),
        };
        TotpParams::new(algorithm, self.digits.unwrap_or(defaults.digits()), self.period.unwrap_or(defaults.period()))
            .map_err(error)
    }
}

/// A new random TOTP secret: 160 bits, base32 without padding.
#[wasm_bindgen(js_name = generateTotpSecret, skip_typescript)]
pub fn generate_totp_secret() -> String {
    TotpSecret::generate(&mut OsRng).to_base32()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UriJs {
    secret: String,
    issuer: Option<String>,
    account: String,
    algorithm: Option<String>,
    digits: Option<u8>,
    period: Option<u64>,
}

/// An `otpauth://totp/…` URI in the Key URI format (issuer as label prefix and as parameter).
#[wasm_bindgen(js_name = totpUri, skip_typescript)]
pub fn totp_uri(options: JsValue) -> JsResult<String> {
    if !options.is_object() {
        return Err(error("totpUri expects an object {secret, issuer, account}"));
    }
    let o: UriJs = options_arg("options", &options)?;
    let uri = OtpauthUri {
        secret: TotpSecret::from_base32(&o.secret).map_err(error)?,
        issuer: o.issuer.filter(|i| !i.is_empty()),
        account: o.account,
        params: ParamsJs { algorithm: o.algorithm, digits: o.digits, period: o.period, ..Default::default() }
            .params()?,
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
    let params = options_arg::<ParamsJs>("options", &options)?.params()?;
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
    let options: ParamsJs = options_arg("options", &options)?;
    let window = options.window.unwrap_or(1);
    if window > 10 {
        return Err(error("window must be between 0 and 10 steps"));
    }
    let step = totp::verify(&secret, &options.params()?, &code, time, window, options.last_step).ok();
    to_js(&VerificationJs { valid: step.is_some(), step })
}

/// The canonical form of a typed backup code (lowercase, no spaces or dashes), as the server compares it.
#[wasm_bindgen(js_name = normalizeBackupCode, skip_typescript)]
pub fn normalize_backup_code(code: JsValue) -> JsResult<String> {
    backup::normalize_backup_code(&string_arg("code", &code)?).map_err(error)
}
