//! Password policy and strength, for live feedback that matches the server's verdicts.

use latchkey_core::policy::{PasswordPolicy, UserAttributes};
use latchkey_core::strength;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::{error, invalid, json_arg, string_arg, string_array_arg, to_js, JsResult};

/// Longest password `passwordStrength` accepts; the policy refuses longer ones anyway.
const MAX_PASSWORD_BYTES: usize = 4096;

/// The default policy, with its fingerprint: the same JSON as `GET /api/auth/password/policy/`.
#[wasm_bindgen(js_name = defaultPolicy, skip_typescript)]
pub fn default_policy() -> JsResult<JsValue> {
    to_js(&PasswordPolicy::default())
}

/// Validates a password as the server would, for `user` and `policy` (both optional).
#[wasm_bindgen(js_name = validatePassword, skip_typescript)]
pub fn validate_password(password: JsValue, user: JsValue, policy: JsValue) -> JsResult<JsValue> {
    let password = string_arg("password", &password)?;
    let user = match json_arg("user", &user)? {
        Some(value) => UserAttributes::from_json(&value).map_err(invalid("user"))?,
        None => UserAttributes::default(),
    };
    let policy = match json_arg("policy", &policy)? {
        Some(value) => PasswordPolicy::from_json(&value).map_err(|e| error(format!("invalid policy: {e}")))?,
        None => PasswordPolicy::default(),
    };
    to_js(&policy.validate(&password, &user))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StrengthJs {
    score: u8,
    guesses_log10: f64,
    warning: &'static str,
    suggestions: Vec<&'static str>,
}

/// A zxcvbn-style strength estimate: `{score, guessesLog10, warning, suggestions}`; `warning` is `""`
/// when there is none, as in zxcvbn.
#[wasm_bindgen(js_name = passwordStrength, skip_typescript)]
pub fn password_strength(password: JsValue, user_inputs: JsValue) -> JsResult<JsValue> {
    let password = string_arg("password", &password)?;
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(error(format!("password must be at most {MAX_PASSWORD_BYTES} bytes")));
    }
    let inputs = string_array_arg("userInputs", &user_inputs)?;
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let estimate = strength::estimate(&password, &inputs);
    to_js(&StrengthJs {
        score: estimate.score,
        guesses_log10: estimate.guesses_log10,
        warning: estimate.warning.map_or("", |w| w.message()),
        suggestions: estimate.suggestions.iter().map(|s| s.message()).collect(),
    })
}
