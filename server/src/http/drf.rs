//! Request bodies the DRF way: a JSON extractor whose rejections are [`ApiError`]s, and a small
//! serializer-like reader that collects DRF's field messages.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use crate::infra::error::{ApiError, FieldErrors};

/// A JSON request body. A content type other than `application/json` is a 415, a body over the
/// router's limit a 413, malformed JSON a 400 `JSON parse error - …`; an empty body reads as `{}`.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Parse(e.body_text())
            }
        })?;
        if !content_type.as_deref().is_some_and(is_json) {
            if bytes.is_empty() {
                return Ok(Self(Value::Object(Map::new())));
            }
            return Err(ApiError::UnsupportedMediaType(content_type.unwrap_or_default()));
        }
        if bytes.is_empty() {
            return Ok(Self(Value::Object(Map::new())));
        }
        serde_json::from_slice(&bytes).map(Self).map_err(|e| ApiError::Parse(e.to_string()))
    }
}

/// A request body as a type: read from the JSON object field by field, the way a DRF serializer
/// reads one, every error collected under its field's name. The same type derives `ToSchema`, so
/// the OpenAPI document describes exactly what the handler reads.
pub trait FormBody: Sized {
    /// Reads every field of `form`, recording errors there. The value is used only when `form`
    /// ends without errors, so a field that failed may hold anything (its default, typically).
    fn read(form: &mut Form<'_>) -> Self;
}

/// A JSON request body read into `T` (see [`FormBody`]): a 400 with every field's messages when any
/// field fails, and [`JsonBody`]'s answers for what is not JSON.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: FormBody> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(value) = JsonBody::from_request(req, state).await?;
        Form::new(&value).read::<T>().map(Self)
    }
}

/// Whether a `Content-Type` value is `application/json`, parameters (`; charset=utf-8`) allowed.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// DRF's `MaxLengthValidator` message.
pub fn max_length_message(max: usize) -> String {
    format!("Ensure this field has no more than {max} characters.")
}

/// How a DRF `CharField` treats one field.
#[derive(Debug, Clone, Copy)]
pub struct CharField {
    /// Absent is "This field is required.".
    pub required: bool,
    /// Leading and trailing whitespace is removed first (DRF's default).
    pub trim: bool,
    /// An empty string (after trimming) is allowed.
    pub allow_blank: bool,
}

impl CharField {
    /// Required, trimmed, not blank: DRF's defaults.
    pub const REQUIRED: Self = Self { required: true, trim: true, allow_blank: false };
    /// Optional, trimmed, blank allowed: an optional profile field.
    pub const OPTIONAL: Self = Self { required: false, trim: true, allow_blank: true };
    /// Required and not trimmed: passwords in Latchkey keep their spaces (see README).
    pub const PASSWORD: Self = Self { required: true, trim: false, allow_blank: false };
}

/// Reads fields of a JSON object like a DRF serializer, collecting every error before failing.
#[derive(Debug)]
pub struct Form<'a> {
    map: Option<&'a Map<String, Value>>,
    errors: FieldErrors,
    /// A [`Form::bounded`] field was over its bound.
    over_bounds: bool,
}

impl<'a> Form<'a> {
    /// Starts reading `value`; a value that is not an object is DRF's `non_field_errors`.
    pub fn new(value: &'a Value) -> Self {
        let mut form = Self { map: value.as_object(), errors: FieldErrors::new(), over_bounds: false };
        if form.map.is_none() {
            let kind = match value {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "int",
                Value::Bool(_) => "bool",
                _ => "NoneType",
            };
            form.error("non_field_errors", format!("Invalid data. Expected a dictionary, but got {kind}."));
        }
        form
    }

    /// Whether the field is present in the body (even as null).
    pub fn has(&self, field: &str) -> bool {
        self.map.is_some_and(|m| m.contains_key(field))
    }

    /// The raw value of `field`: `Some` when the body is an object that has it (`null` included),
    /// `None` when it is absent or the body is no object. For the rules that are not DRF's field
    /// types (a `null` that means "clear it", a type-dependent message, a list); reading a value
    /// records nothing, the caller adds its errors with [`Form::error`].
    pub fn value(&self, field: &str) -> Option<&'a Value> {
        self.map?.get(field)
    }

    /// A `CharField`: `Some` when present and valid; `None` when absent (and optional) or invalid.
    pub fn string(&mut self, field: &str, rule: CharField) -> Option<String> {
        let map = self.map?;
        let text = match map.get(field) {
            None => {
                if rule.required {
                    self.error(field, "This field is required.");
                }
                return None;
            }
            Some(Value::Null) => {
                self.error(field, "This field may not be null.");
                return None;
            }
            Some(Value::String(s)) => s.clone(),
            // DRF stringifies numbers given to a CharField.
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                self.error(field, "Not a valid string.");
                return None;
            }
        };
        let text = if rule.trim { text.trim().to_owned() } else { text };
        if text.is_empty() && !rule.allow_blank {
            self.error(field, "This field may not be blank.");
            return None;
        }
        Some(text)
    }

    /// A `CharField` with DRF's `max_length`: longer than `max` characters (after trimming, before
    /// any other work such as normalization) is DRF's "Ensure this field has no more than N
    /// characters." and `None`.
    pub fn bounded(&mut self, field: &str, rule: CharField, max: usize) -> Option<String> {
        let value = self.string(field, rule)?;
        if value.chars().count() > max {
            self.error(field, max_length_message(max));
            self.over_bounds = true;
            return None;
        }
        Some(value)
    }

    /// Whether a [`Form::bounded`] field was over its bound: the request is refused before any work.
    pub fn over_bounds(&self) -> bool {
        self.over_bounds
    }

    /// A `JSONField` that must be an object (a WebAuthn credential): `Some` when present and an
    /// object; a missing or other value is DRF's error for it and `None`.
    pub fn object(&mut self, field: &str) -> Option<&'a Value> {
        match self.map?.get(field) {
            None => {
                self.error(field, "This field is required.");
                None
            }
            Some(Value::Null) => {
                self.error(field, "This field may not be null.");
                None
            }
            Some(value @ Value::Object(_)) => Some(value),
            Some(_) => {
                self.error(field, "Expected a dictionary of items.");
                None
            }
        }
    }

    /// A `BooleanField` that is optional.
    pub fn boolean(&mut self, field: &str) -> Option<bool> {
        match self.map?.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(field, "Must be a valid boolean.");
                None
            }
        }
    }

    /// Reads a [`FormBody`] and finishes: the value, or the 400 with every field's messages.
    /// Handlers that add checks of their own (against the database, say) call `T::read` and
    /// [`Form::finish`] themselves instead.
    pub fn read<T: FormBody>(mut self) -> Result<T, ApiError> {
        let value = T::read(&mut self);
        self.finish().map(|()| value)
    }

    /// Adds an error to `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_owned()).or_default().push(message.into());
    }

    /// Whether `field` already has an error.
    pub fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// `Ok` when no field failed, else the 400 with every message.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn char_fields_follow_drf() {
        let body = json!({"a": "  x  ", "b": "   ", "c": 5, "d": true, "e": null});
        let mut form = Form::new(&body);
        assert_eq!(form.string("a", CharField::REQUIRED).as_deref(), Some("x"));
        assert_eq!(form.string("b", CharField::REQUIRED), None);
        assert_eq!(form.string("c", CharField::REQUIRED).as_deref(), Some("5"));
        assert_eq!(form.string("d", CharField::REQUIRED), None);
        assert_eq!(form.string("e", CharField::REQUIRED), None);
        assert_eq!(form.string("f", CharField::REQUIRED), None);
        assert_eq!(form.string("g", CharField::OPTIONAL), None);
        let Err(ApiError::Validation(errors)) = form.finish() else { panic!("expected errors") };
        assert_eq!(errors["b"], ["This field may not be blank."]);
        assert_eq!(errors["d"], ["Not a valid string."]);
        assert_eq!(errors["e"], ["This field may not be null."]);
        assert_eq!(errors["f"], ["This field is required."]);
        assert!(!errors.contains_key("g"));
    }

    #[test]
    fn bounded_fields_refuse_what_is_too_long_before_anything_else() {
        let long = "\u{fdfa}".repeat(255);
        let body = json!({"a": " abc ", "b": long, "c": "x".repeat(254)});
        let mut form = Form::new(&body);
        assert_eq!(form.bounded("a", CharField::REQUIRED, 3).as_deref(), Some("abc"));
        assert_eq!(form.bounded("b", CharField::REQUIRED, 254), None);
        assert_eq!(form.bounded("c", CharField::REQUIRED, 254).map(|c| c.len()), Some(254));
        let Err(ApiError::Validation(errors)) = form.finish() else { panic!("expected errors") };
        assert_eq!(errors["b"], ["Ensure this field has no more than 254 characters."]);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn json_is_the_essence_of_the_content_type() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json(""));
    }

    #[test]
    fn values_are_the_raw_fields_of_an_object() {
        let body = json!({"a": null, "b": [1, "x"], "c": 5});
        let form = Form::new(&body);
        assert_eq!(form.value("a"), Some(&Value::Null));
        assert_eq!(form.value("b"), Some(&json!([1, "x"])));
        assert_eq!(form.value("c"), Some(&json!(5)));
        assert_eq!(form.value("d"), None);
        assert!(form.finish().is_ok(), "reading a value records no error");
        let list = json!([{"a": 1}]);
        assert_eq!(Form::new(&list).value("a"), None);
        let text = json!("a");
        assert_eq!(Form::new(&text).value("a"), None);
    }

    #[test]
    fn non_objects_are_non_field_errors() {
        let Err(ApiError::Validation(errors)) = Form::new(&json!([1])).finish() else { panic!() };
        assert_eq!(errors["non_field_errors"], ["Invalid data. Expected a dictionary, but got list."]);
    }
}
