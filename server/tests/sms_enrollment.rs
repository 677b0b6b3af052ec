//! SMS phone numbers as a second factor (docs/api.md#sms-codes), added, confirmed, listed and removed
//! on both databases: through the file backend, and through Twilio's Messages API (a local stand-in
//! speaking it, `common::twilio_fake`), failures included; the number sealed at rest and shown
//! masked; E.164 and the country allow-list; the device bound; the re-authentication rules; and
//! every endpoint a 404 while SMS is off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_phone, audit_events, call_as, configured, confirm_phone, create_user, enroll_phone, last_text,
    let_backoff_pass, login_pair, mfa_step, sms_to_files, texts, window_passes, FakeTwilio, TwilioBehaviour, PASSWORD,
    TWILIO_FROM,
};
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

const NUMBER: &str = "+14155554567";

#[tokio::test]
async fn the_twilio_stand_in_speaks_twilios_api() {
    common::twilio_fake::self_test().await;
}

#[test]
fn bad_sms_settings_are_refused_at_start() {
    use latchkey_server::config::Rate;
    let hour = std::time::Duration::from_secs(3600);
    assert_eq!("100/1h".parse::<Rate>(), Ok(Rate { count: 100, window: hour }), "LATCHKEY_SMS_COUNTRY_LIMIT");
    for bad in ["100", "x/1h", "1/0s", "1/soon"] {
        assert!(bad.parse::<Rate>().is_err(), "{bad}");
    }
    let config = latchkey_server::Config::from_env().unwrap();
    assert!(!config.sms_backend.is_on(), "off by default");
    assert_eq!(
        (config.sms_api_url.as_str(), config.sms_country_limit),
        ("https://api.twilio.com", Rate { count: 100, window: hour })
    );
}

on_both!(a_number_is_added_confirmed_listed_and_removed, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let user_id = create_user(&state, "ada@example.com", PASSWORD).await;
    let (access, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let body = json!({"phone_number": "+1 415-555-4567", "name": "Work phone"});
    let (status, device) = call_as(&state, "POST", "/api/auth/2fa/sms/", body, &access).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    assert_eq!(device["phone_number_masked"], "+1 ••• ••• 4567");
    assert_eq!(device.as_object().unwrap().len(), 2, "{device}");
    let id = device["id"].as_i64().unwrap();
    // One text to the number in E.164, with a 6-digit code, written as {"to","body","sent_at"}.
    let sent = texts(&dir);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], NUMBER);
    assert!(sent[0]["sent_at"].as_str().unwrap().ends_with('Z'), "{}", sent[0]);
    let (code, _) = last_text(&dir);

    // Unconfirmed: listed, 2FA still off.
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &access).await;
    assert_eq!(listed["enabled"], false);
    let shown = &listed["devices"][0];
    assert_eq!((shown["kind"].as_str(), shown["name"].as_str()), (Some("sms"), Some("Work phone")));
    assert_eq!(
        (shown["phone_number_masked"].as_str(), shown["confirmed"].as_bool()),
        (Some("+1 ••• ••• 4567"), Some(false))
    );

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = confirm_phone(&state, &access, id, wrong).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"code": ["Invalid two-factor code."]})));
    let_backoff_pass(&state, user_id).await;
    let (status, body) = confirm_phone(&state, &access, id, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["backup_codes"].as_array().unwrap().len(), 10, "the first second factor gives backup codes");
    let (status, body) = confirm_phone(&state, &access, id, &code).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"code": ["This phone number is already confirmed."]})));

    // 2FA is on, and an authenticator added later is listed beside it with its kind.
    let (_, me) = call_as(&state, "GET", "/api/auth/me/", None, &access).await;
    assert_eq!(me["mfa_enabled"], true);
    let authenticator = common::add_authenticator(&state, &access, "App").await;
    assert!(authenticator.backup_codes.is_empty(), "not the first second factor");
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &access).await;
    assert_eq!(listed["enabled"], true);
    let kinds: Vec<&str> = listed["devices"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["sms", "totp"], "oldest first: {listed}");
    assert_eq!(listed["devices"][0]["confirmed"], true);
    assert!(listed["devices"][0]["last_used_at"].is_string());
    assert!(listed["devices"][1].get("phone_number_masked").is_none());

    // Removing both: 2FA goes off with the last one.
    let totp_path = format!("/api/auth/2fa/totp/{}/", authenticator.id);
    let (status, _) = call_as(&state, "DELETE", &totp_path, json!({}), &access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = call_as(&state, "GET", "/api/auth/me/", None, &access).await;
    assert_eq!(me["mfa_enabled"], true, "the phone remains a second factor");
    let (status, _) = call_as(&state, "DELETE", &format!("/api/auth/2fa/sms/{id}/"), None, &access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &access).await;
    assert_eq!(listed, json!({"enabled": false, "devices": [], "backup_codes_remaining": 0}));
    let (status, _) = call_as(&state, "DELETE", &format!("/api/auth/2fa/sms/{id}/"), None, &access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let events: Vec<(String, Value)> = audit_events(&state, user_id).await;
    let named = |name: &str| events.iter().filter(|(e, _)| e == name).map(|(_, d)| d.clone()).collect::<Vec<_>>();
    assert_eq!(named("sms_device_added"), [json!({"device_id": id, "name": "Work phone"})]);
    assert_eq!(named("sms_device_removed"), [json!({"device_id": id, "name": "Work phone", "mfa_enabled": false})]);
    assert_eq!(named("mfa_enabled"), [json!({"by": "sms_device"})]);
    assert_eq!(named("mfa_disabled"), [json!({"by": "device_removed"})]);
    assert!(events.iter().all(|(_, detail)| !detail.to_string().contains("4567")), "no number in the audit log");
});

on_both!(the_number_is_sealed_at_rest, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let enrolled = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    let digits = NUMBER.trim_start_matches('+');
    let mut read = 0;
    for table in ["sms_devices", "sms_codes", "rate_limits", "audit_events"] {
        let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(&state.db.pool).await.unwrap();
        for row in &rows {
            // Every text column (the others do not read as text).
            for text in (0..row.len()).filter_map(|i| row.try_get::<Option<String>, _>(i).ok().flatten()) {
                assert!(!text.contains(digits) && !text.contains("5554567"), "{table}: {text}");
                read += 1;
            }
        }
    }
    assert!(read >= 10, "the text columns were read: {read}");
    let row = sqlx::query("SELECT phone_number, number_hash FROM sms_devices WHERE id = $1")
        .bind(enrolled.device_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert!(row.get::<String, _>("phone_number").starts_with("v1$"), "sealed by the vault");
    assert_eq!(row.get::<String, _>("number_hash").len(), 64, "an HMAC-SHA256");
});

on_both!(only_e164_numbers_of_allowed_countries_are_taken, |state: AppState| async move {
    let (state, _dir) = sms_to_files(&state);
    let state = configured(&state, |c| c.sms_countries = "1,44".parse().unwrap());
    create_user(&state, "ada@example.com", PASSWORD).await;
    let (access, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let add = |number: Value| {
        let (state, access) = (state.clone(), access.clone());
        async move { call_as(&state, "POST", "/api/auth/2fa/sms/", json!({ "phone_number": number }), &access).await }
    };
    let e164 = "Enter a phone number in international format, such as +14155550100.";
    for bad in ["4155554567", "+1415", "+04155554567", "+1415555456789012", "+1 (415) 555-4567"] {
        assert_eq!(add(json!(bad)).await, (StatusCode::BAD_REQUEST, json!({ "phone_number": [e164] })), "{bad}");
    }
    let unknown = "This phone number's country calling code is not one SMS can be sent to.";
    assert_eq!(add(json!("+80012345678")).await, (StatusCode::BAD_REQUEST, json!({ "phone_number": [unknown] })));
    let refused = "SMS codes cannot be sent to this country.";
    assert_eq!(add(json!("+4915123456789")).await, (StatusCode::BAD_REQUEST, json!({ "phone_number": [refused] })));
    let (status, body) = add(Value::Null).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"phone_number": ["This field may not be null."]})));
    assert_eq!(add(json!("+447911123456")).await.0, StatusCode::CREATED, "+44 is allowed, and not taken for +4");
    assert_eq!(add(json!(NUMBER)).await.0, StatusCode::CREATED);
});

on_both!(an_account_has_at_most_five_numbers, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    // Long tokens and sudo window: the user's sending limit (3 per 10 minutes) is waited out here.
    let hour = std::time::Duration::from_secs(2 * 3600);
    let state = configured(&state, |c| (c.access_token_lifetime, c.reauth_window) = (hour, hour));
    common::at_window_start(&state, 600);
    let enrolled = enroll_phone(&state, &dir, "ada@example.com", "+447911000001").await;
    let access = &enrolled.access;
    add_phone(&state, access, "+447911000002").await;
    add_phone(&state, access, "+447911000003").await;
    common::at_window_start(&state, 600);
    add_phone(&state, access, "+447911000004").await;
    let fifth = add_phone(&state, access, "+447911000005").await;
    let add =
        |number: &'static str| call_as(&state, "POST", "/api/auth/2fa/sms/", json!({ "phone_number": number }), access);
    let (status, body) = add("+447911000001").await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"phone_number": ["This phone number is already set up."]}))
    );
    let (status, body) = add("+447911000006").await;
    let full = "An account has at most 5 phone numbers. Remove one first.";
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({ "non_field_errors": [full] })));
    // The same unconfirmed number again is a new code for it, in place of the old device.
    let (status, again) = add("+447911000005").await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(again["id"].as_i64().unwrap(), fifth);
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, access).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 5, "{listed}");
    assert_eq!(texts(&dir).len(), 6, "refusals send nothing");
    // Unconfirmed numbers older than an hour are dropped when another is added.
    common::pass(&state, 3601);
    let (status, _) = add("+447911000006").await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, access).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 2, "the confirmed one and the new one: {listed}");
});

on_both!(adding_a_number_is_privileged, |state: AppState| async move {
    let (state, _dir) = sms_to_files(&state);
    create_user(&state, "ada@example.com", PASSWORD).await;
    let (first, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let (second, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let body = json!({ "phone_number": NUMBER });
    // Once 2FA is on, a session that did not verify a second factor may not add one.
    common::add_authenticator(&state, &first, "App").await;
    let (status, answer) = call_as(&state, "POST", "/api/auth/2fa/sms/", body.clone(), &second).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer, json!({"detail": "You do not have permission to perform this action."}));
    // The session that did, once its re-authentication window has passed, must prove the user again.
    window_passes(&state);
    let (status, answer) = call_as(&state, "POST", "/api/auth/2fa/sms/", body.clone(), &first).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauthentication_required")));
    let proof = json!({ "password": PASSWORD });
    let (status, _) = call_as(&state, "POST", "/api/auth/reauthenticate/", proof, &first).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call_as(&state, "POST", "/api/auth/2fa/sms/", body, &first).await;
    assert_eq!(status, StatusCode::CREATED);
});

on_both!(sms_off_hides_every_endpoint, |state: AppState| async move {
    let (on, dir) = sms_to_files(&state);
    let enrolled = enroll_phone(&on, &dir, "ada@example.com", NUMBER).await;
    let (_, methods) = mfa_step(&on, "ada@example.com").await;
    assert_eq!(methods, json!(["backup_code", "sms"]));
    // Off (the default): 404 everywhere, and no login offers SMS.
    let off = &state;
    assert!(!off.config.sms_backend.is_on());
    let access = &enrolled.access;
    let id = enrolled.device_id;
    let answers = [
        call_as(off, "POST", "/api/auth/2fa/sms/", json!({ "phone_number": "+14155550000" }), access).await,
        call_as(off, "POST", &format!("/api/auth/2fa/sms/{id}/confirm/"), json!({"code": "123456"}), access).await,
        call_as(off, "DELETE", &format!("/api/auth/2fa/sms/{id}/"), None, access).await,
    ];
    for (status, body) in answers {
        assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    }
    let (token, methods) = mfa_step(off, "ada@example.com").await;
    assert_eq!(methods, json!(["backup_code"]), "no sms while SMS is off");
    let (status, body) = common::send_sms(off, &token, json!({})).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    assert_eq!(texts(&dir).len(), 1, "only the enrollment's text");
});

on_both!(the_twilio_backend_posts_to_the_messages_api, |state: AppState| async move {
    let twilio = FakeTwilio::start().await;
    let backend = twilio.backend().parse().unwrap();
    let state = configured(&state, |c| {
        c.sms_backend = backend;
        c.sms_api_url = twilio.base.clone();
    });
    let user_id = create_user(&state, "ada@example.com", PASSWORD).await;
    let (access, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let id = add_phone(&state, &access, NUMBER).await;
    let sent = twilio.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].to.as_str(), sent[0].from.as_str()), (NUMBER, TWILIO_FROM));
    assert!(sent[0].body.contains("expires in 5 minutes"), "{}", sent[0].body);
    let (status, body) = confirm_phone(&state, &access, id, &sent[0].code()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Twilio refuses (an unsubscribed recipient): 503 at once, and no device is left behind.
    twilio.behave(TwilioBehaviour::Fail { status: 400, code: 21610, message: "Unsubscribed recipient".into() });
    let body = json!({ "phone_number": "+14155550000" });
    let (status, answer) = call_as(&state, "POST", "/api/auth/2fa/sms/", body, &access).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], "unavailable");
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &access).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(twilio.statuses(), [201, 400]);
    assert_eq!(common::audited(&state, "sms_device_added", Some(user_id)).await.len(), 1);

    // The wrong credentials are Twilio's 401: the same 503 for the user.
    let wrong = format!("twilio://{}:wrong-token@{TWILIO_FROM}", common::TWILIO_SID).parse().unwrap();
    let state = configured(&state, |c| c.sms_backend = wrong);
    twilio.behave(TwilioBehaviour::Answer);
    let (status, _) =
        call_as(&state, "POST", "/api/auth/2fa/sms/", json!({ "phone_number": "+14155550001" }), &access).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(twilio.statuses(), [201, 400, 401]);
});

on_both!(staff_reset_removes_phones_and_the_schema_describes_them, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let ada = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    // What `GET /api/auth/2fa/` lists for a phone is what the document says, field for field.
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &ada.access).await;
    let (_, doc) = common::call(&state, "GET", "/api/schema/", None, None).await;
    let documented = |schema: &str| {
        let fields = doc["components"]["schemas"][schema]["properties"].as_object().unwrap();
        fields.keys().cloned().collect::<std::collections::BTreeSet<_>>()
    };
    let shown: std::collections::BTreeSet<_> = listed["devices"][0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(shown, documented("SmsDeviceShown"));
    assert!(documented("TotpDevice").contains("kind"));

    let staff_id = create_user(&state, "staff@example.com", PASSWORD).await;
    common::make_staff(&state, staff_id).await;
    let (staff, _) = login_pair(&state, "staff@example.com", PASSWORD).await;
    let reset = format!("/api/admin/users/{}/2fa/reset/", ada.user_id);
    let (status, body) = call_as(&state, "POST", &reset, json!({"reason": "Lost phone"}), &staff).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The reset ended Ada's sessions; the password alone signs her in now.
    let (access, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &access).await;
    assert_eq!(listed, json!({"enabled": false, "devices": [], "backup_codes_remaining": 0}));
    let detail = common::audited(&state, "admin_2fa_reset", Some(ada.user_id)).await;
    assert_eq!(detail[0]["devices_removed"], 1, "{detail:?}");
});
