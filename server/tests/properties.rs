//! Property tests of the server's request-body readers (`drf`): the JSON extractor and the DRF
//! serializer-like `Form`, on arbitrary bytes and arbitrary JSON values.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::FromRequest;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use common::drf_shaped;
use latchkey_server::drf::{max_length_message, CharField, Form, JsonBody};
use latchkey_server::ApiError;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// A fixed number of cases, and no regression files written into the source tree.
fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().build().unwrap());

/// Whitespace as Rust (`char::is_whitespace`) and Python (`str.strip`, which DRF uses) see it,
/// look-alikes that are neither, and characters that change under normalization.
const SPACES: &str = " \t\n\r\u{b}\u{c}\u{1c}\u{1f}\u{85}\u{a0}\u{1680}\u{180e}\u{2000}\u{200a}\u{200b}\u{2028}\
    \u{2029}\u{202f}\u{205f}\u{2060}\u{3000}\u{feff}a\u{e9}\u{fdfa}\u{1f600}\0";

fn spaced_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), vec(select(SPACES.chars().collect::<Vec<_>>()), 0..24).prop_map(String::from_iter)]
}

/// Any JSON value, nested, with numbers of every kind and strings heavy in whitespace.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        spaced_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((spaced_text(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

const NAMES: [&str; 6] = ["email", "username", "password", "code", "name", "flag"];

/// Objects over [`NAMES`], or any JSON value at all.
fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => vec((select(NAMES.to_vec()).prop_map(str::to_owned), json_value()), 0..6)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        1 => json_value(),
    ]
}

fn char_field() -> impl Strategy<Value = CharField> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(required, trim, allow_blank)| CharField {
        required,
        trim,
        allow_blank,
    })
}

/// What DRF's `CharField` makes of a field: the value, or the message it adds.
fn drf_string(value: Option<&Value>, rule: CharField) -> Result<Option<String>, &'static str> {
    let text = match value {
        None if rule.required => return Err("This field is required."),
        None => return Ok(None),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("Not a valid string."),
    };
    let text = if rule.trim { text.trim().to_owned() } else { text };
    if text.is_empty() && !rule.allow_blank {
        return Err("This field may not be blank.");
    }
    Ok(Some(text))
}

/// What DRF's optional `BooleanField` makes of a field.
fn drf_boolean(value: Option<&Value>) -> Result<Option<bool>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err("Must be a valid boolean."),
    }
}

/// DRF's message for a body that is not an object.
fn not_a_dictionary(value: &Value) -> Option<String> {
    let kind = match value {
        Value::Object(_) => return None,
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
    };
    Some(format!("Invalid data. Expected a dictionary, but got {kind}."))
}

/// The status and JSON body an error answers with.
fn answer(error: ApiError) -> (StatusCode, Value) {
    let response = error.into_response();
    let status = response.status();
    let bytes = RUNTIME.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Any JSON value, any sequence of reads: `Form` gives DRF's values and collects exactly DRF's
    /// messages, which answer a 400 of `{"field": ["message", ...]}`.
    #[test]
    fn form_reads_any_json_like_drf_and_its_errors_are_drf_shaped(
        value in body(),
        // Each read: a field, a CharField rule, and 0 for `string`, 1 for `boolean`, 2.. for
        // `bounded` to (kind - 2) characters.
        reads in vec((select(NAMES.to_vec()), char_field(), 0..12usize), 0..8),
    ) {
        let mut form = Form::new(&value);
        let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(message) = not_a_dictionary(&value) {
            expected.entry("non_field_errors".to_owned()).or_default().push(message);
        }
        let map = value.as_object();
        let mut over_bounds = false;
        for (field, rule, kind) in reads {
            prop_assert_eq!(form.has(field), map.is_some_and(|m| m.contains_key(field)));
            let raw = map.and_then(|m| m.get(field));
            let (got, want) = match kind {
                0 => (form.string(field, rule), drf_string(raw, rule).map_err(str::to_owned)),
                1 => {
                    let want = drf_boolean(raw).map(|b| b.map(|b| b.to_string())).map_err(str::to_owned);
                    (form.boolean(field).map(|b| b.to_string()), want)
                }
                _ => {
                    let max = kind - 2;
                    let want = match drf_string(raw, rule) {
                        Ok(Some(text)) if text.chars().count() > max => Err(max_length_message(max)),
                        want => want.map_err(str::to_owned),
                    };
                    over_bounds |= map.is_some() && want.as_ref().is_err_and(|m| *m == max_length_message(max));
                    (form.bounded(field, rule, max), want)
                }
            };
            match (map, want) {
                // A body that is not an object reads as nothing, without further messages.
                (None, _) => prop_assert_eq!(got, None),
                (Some(_), Ok(want)) => prop_assert_eq!(got, want),
                (Some(_), Err(message)) => {
                    prop_assert_eq!(got, None);
                    expected.entry(field.to_owned()).or_default().push(message);
                }
            }
            prop_assert_eq!(form.has_error(field), expected.contains_key(field));
            prop_assert_eq!(form.over_bounds(), over_bounds);
        }
        match form.finish() {
            Ok(()) => prop_assert!(expected.is_empty(), "expected {:?}", expected),
            Err(ApiError::Validation(errors)) => {
                prop_assert_eq!(&errors, &expected);
                let (status, body) = answer(ApiError::Validation(errors));
                prop_assert_eq!(status, StatusCode::BAD_REQUEST);
                prop_assert!(drf_shaped(&body), "{}", body);
                prop_assert_eq!(body, json!(expected));
            }
            Err(other) => prop_assert!(false, "not a validation error: {other:?}"),
        }
    }

    /// DRF trims with Python's `str.strip()`; Latchkey documents `str::trim`, and must be exactly
    /// that: trimmed fields are `text.trim()`, passwords are untouched, blank ones are refused.
    #[test]
    fn string_fields_come_back_trimmed_exactly_as_str_trim(text in spaced_text()) {
        let body = json!({ "field": text });
        let trimmed = text.trim();
        let mut form = Form::new(&body);
        prop_assert_eq!(form.string("field", CharField::OPTIONAL), Some(trimmed.to_owned()));
        let nonblank = |text: &str| Some(text.to_owned()).filter(|text| !text.is_empty());
        prop_assert_eq!(form.string("field", CharField::PASSWORD), nonblank(&text));
        prop_assert_eq!(form.string("field", CharField::REQUIRED), nonblank(trimmed));
        let blank = [text.is_empty(), trimmed.is_empty()].into_iter().filter(|blank| *blank).count();
        match form.finish() {
            Ok(()) => prop_assert_eq!(blank, 0),
            Err(ApiError::Validation(errors)) => {
                prop_assert_eq!(errors.len(), 1);
                prop_assert_eq!(errors["field"].len(), blank);
                prop_assert!(errors["field"].iter().all(|m| m == "This field may not be blank."));
            }
            Err(other) => prop_assert!(false, "not a validation error: {other:?}"),
        }
    }

    /// The body extractor: JSON exactly when serde_json parses it, `{}` for an empty body, and
    /// otherwise a DRF-shaped 400 (malformed) or 415 (not `application/json`), never a panic.
    #[test]
    fn json_body_accepts_exactly_what_serde_json_parses(
        bytes in prop_oneof![
            json_value().prop_map(|value| value.to_string().into_bytes()),
            // Cut short: mostly malformed.
            json_value().prop_map(|value| value.to_string().into_bytes()[..].split_at(1).1.to_vec()),
            vec(any::<u8>(), 0..64),
            (1..200usize).prop_map(|depth| "[".repeat(depth).into_bytes()),
        ],
        content_type in select(vec![
            None, Some("application/json"), Some("Application/JSON; charset=utf-8"), Some("text/plain"),
        ]),
    ) {
        let mut request = Request::builder().method("POST").uri("/");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let request = request.body(Body::from(bytes.clone())).unwrap();
        let extracted = RUNTIME.block_on(JsonBody::from_request(request, &()));
        let is_json = content_type.is_some_and(|c| c.starts_with("application/") || c.starts_with("Application/"));
        match extracted {
            Ok(JsonBody(value)) if bytes.is_empty() => prop_assert_eq!(value, json!({})),
            Ok(JsonBody(value)) => {
                prop_assert!(is_json);
                prop_assert_eq!(Some(value), serde_json::from_slice::<Value>(&bytes).ok());
            }
            Err(error) => {
                let (status, body) = answer(error);
                let expected = if is_json { StatusCode::BAD_REQUEST } else { StatusCode::UNSUPPORTED_MEDIA_TYPE };
                prop_assert_eq!(status, expected);
                prop_assert!(drf_shaped(&body), "{}", body);
                prop_assert!(!is_json || serde_json::from_slice::<Value>(&bytes).is_err());
            }
        }
    }
}
