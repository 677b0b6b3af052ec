//! The one place where Rust errors become JavaScript `Error`s, and where JavaScript values are
//! checked before they reach the core: a wrong type is a readable `Error`, never a panic.

use latchkey_core::json::FieldError;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsError, JsValue};

/// What every exported function returns: a value, or a thrown `Error` with a readable message.
pub(crate) type JsResult<T> = Result<T, JsError>;

/// A thrown `Error` whose message is `message`.
pub(crate) fn error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

/// A required string argument.
pub(crate) fn string_arg(name: &str, value: &JsValue) -> JsResult<String> {
    value.as_string().ok_or_else(|| error(format!("{name} must be a string, got {}", type_name(value))))
}

/// An optional object argument as JSON (`undefined` or `null` give `None`), read through
/// `JSON.stringify` and `serde_json`: the path the server's JSON takes, so the browser accepts and
/// refuses exactly what the server does.
pub(crate) fn json_arg(name: &str, value: &JsValue) -> JsResult<Option<Value>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(error(format!("{name} must be an object, got {}", type_name(value))));
    }
    let json = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| error(format!("{name} cannot be read as JSON")))?;
    serde_json::from_str(&json).map(Some).map_err(|e| error(format!("invalid {name}: {e}")))
}

/// Wraps a field error of argument `name` as a thrown `Error`.
pub(crate) fn invalid(name: &str) -> impl Fn(FieldError) -> JsError + '_ {
    move |e| error(format!("invalid {name}: {e}"))
}

/// An optional array of strings (`undefined` or `null` means none).
pub(crate) fn string_array_arg(name: &str, value: &JsValue) -> JsResult<Vec<String>> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !js_sys::Array::is_array(value) {
        return Err(error(format!("{name} must be an array of strings, got {}", type_name(value))));
    }
    js_sys::Array::from(value).iter().enumerate().map(|(i, item)| string_arg(&format!("{name}[{i}]"), &item)).collect()
}

/// A time in Unix seconds; `undefined` or `null` means now.
pub(crate) fn time_arg(name: &str, value: &JsValue) -> JsResult<u64> {
    if value.is_undefined() || value.is_null() {
        return Ok((js_sys::Date::now() / 1000.0).floor() as u64);
    }
    let seconds = if let Some(n) = value.as_f64() {
        n
    } else if value.is_bigint() {
        u64::try_from(js_sys::BigInt::unchecked_from_js_ref(value).clone())
            .map_err(|_| error(format!("{name} must be a non-negative number of seconds")))? as f64
    } else {
        return Err(error(format!("{name} must be a number of Unix seconds, got {}", type_name(value))));
    };
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if !seconds.is_finite() || !(0.0..=MAX_SAFE).contains(&seconds) {
        // The value is not echoed: formatting a float would pull float printing into the bundle.
        return Err(error(format!("{name} must be a non-negative, finite number of seconds")));
    }
    Ok(seconds.floor() as u64)
}

/// Converts a Rust value into a plain JavaScript value through its JSON form: the same JSON the
/// server sends, parsed by `JSON.parse`.
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> JsResult<JsValue> {
    let json = serde_json::to_string(value).map_err(error)?;
    js_sys::JSON::parse(&json).map_err(|_| error("internal error: unparsable JSON"))
}

fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "an array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_else(|| "an unknown value".to_owned())
    }
}
