//! Reading JWTs in the browser. Nothing here verifies a signature: that is the server's job.

use latchkey_core::token;
use wasm_bindgen::prelude::*;

use crate::error::{error, string_arg, time_arg, to_js, JsResult};

/// `{header, claims}` of a JWT, without verifying its signature. Throws on malformed input.
#[wasm_bindgen(js_name = decodeToken, skip_typescript)]
pub fn decode_token(jwt: JsValue) -> JsResult<JsValue> {
    let decoded = token::decode_unverified(&string_arg("jwt", &jwt)?).map_err(error)?;
    to_js(&decoded)
}

/// Seconds until the token's `exp` at `time` (default now); negative once expired.
#[wasm_bindgen(js_name = tokenSecondsLeft, skip_typescript)]
pub fn token_seconds_left(jwt: JsValue, time: JsValue) -> JsResult<f64> {
    let jwt = string_arg("jwt", &jwt)?;
    let now = i64::try_from(time_arg("time", &time)?).map_err(error)?;
    Ok(token::seconds_left(&jwt, now).map_err(error)? as f64)
}
