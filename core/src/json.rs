//! Strict reading of JSON objects, for the values that cross a boundary (the npm package's option
//! objects, the server's request bodies): unknown fields, wrong types and missing fields are
//! errors with a readable message.
//!
//! Written by hand rather than with `#[derive(Deserialize)]`: the derived code, instantiated for
//! each type, and serde's error texts (which format floats) cost about 20 KB of the gzipped
//! browser bundle.

use serde_json::{Map, Value};

/// Why a JSON value is not the object expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// The value is not a JSON object.
    #[error("expected an object")]
    NotAnObject,
    /// The object has a field the type does not know (often a misspelling).
    #[error("unknown field `{field}`, expected one of {expected}")]
    UnknownField {
        /// The unknown field.
        field: String,
        /// The known fields, listed for the message.
        expected: String,
    },
    /// A field has the wrong JSON type or is out of range.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: String,
        /// What it must be, e.g. "a string" or "an integer between 0 and 4".
        expected: &'static str,
    },
    /// A required field is absent or null.
    #[error("missing field `{0}`")]
    Missing(String),
}

/// A JSON object whose fields are read one by one; built by [`Object::new`], which refuses unknown
/// fields up front.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a>(&'a Map<String, Value>);

impl<'a> Object<'a> {
    /// `value` as an object whose fields are all among `known`.
    pub fn new(value: &'a Value, known: &[&str]) -> Result<Self, FieldError> {
        let map = value.as_object().ok_or(FieldError::NotAnObject)?;
        if let Some(field) = map.keys().find(|k| !known.contains(&k.as_str())) {
            let expected = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(FieldError::UnknownField { field: field.clone(), expected });
        }
        Ok(Self(map))
    }

    /// The field, or `None` when it is absent or null.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    fn wrong(field: &str, expected: &'static str) -> FieldError {
        FieldError::WrongType { field: field.to_owned(), expected }
    }

    /// An optional string.
    pub fn string(&self, field: &str) -> Result<Option<String>, FieldError> {
        self.get(field).map(|v| v.as_str().map(str::to_owned).ok_or_else(|| Self::wrong(field, "a string"))).transpose()
    }

    /// A required string.
    pub fn required_string(&self, field: &str) -> Result<String, FieldError> {
        self.string(field)?.ok_or_else(|| FieldError::Missing(field.to_owned()))
    }

    /// An optional boolean.
    pub fn boolean(&self, field: &str) -> Result<Option<bool>, FieldError> {
        self.get(field).map(|v| v.as_bool().ok_or_else(|| Self::wrong(field, "a boolean"))).transpose()
    }

    /// An optional non-negative integer no larger than `max`.
    pub fn integer(&self, field: &str, max: u64, expected: &'static str) -> Result<Option<u64>, FieldError> {
        self.get(field)
            .map(|v| v.as_u64().filter(|n| *n <= max).ok_or_else(|| Self::wrong(field, expected)))
            .transpose()
    }

    /// An optional finite number.
    pub fn number(&self, field: &str) -> Result<Option<f64>, FieldError> {
        self.get(field).map(|v| v.as_f64().ok_or_else(|| Self::wrong(field, "a number"))).transpose()
    }

    /// Whether the field is present, even as null.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    #[test]
    fn reads_known_fields_and_refuses_the_rest() {
        let value = json!({"name": "x", "n": 3, "flag": true, "nothing": null});
        let object = Object::new(&value, &["name", "n", "flag", "nothing", "absent"]).unwrap();
        assert_eq!(object.string("name").unwrap().as_deref(), Some("x"));
        assert_eq!(object.integer("n", 10, "small").unwrap(), Some(3));
        assert_eq!(object.boolean("flag").unwrap(), Some(true));
        assert_eq!(object.string("nothing").unwrap(), None);
        assert_eq!(object.string("absent").unwrap(), None);
        assert_eq!(object.required_string("absent"), Err(FieldError::Missing("absent".into())));
        assert_eq!(object.integer("n", 2, "at most 2").unwrap_err().to_string(), "field `n` must be at most 2");
        assert_eq!(object.string("n").unwrap_err().to_string(), "field `n` must be a string");
        let err = Object::new(&value, &["name"]).unwrap_err().to_string();
        assert!(err.starts_with("unknown field `"), "{err}");
        assert_eq!(Object::new(&json!([1]), &[]).unwrap_err(), FieldError::NotAnObject);
    }
}
