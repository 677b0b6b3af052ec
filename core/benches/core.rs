//! `cargo bench -p latchkey-core --all-features`: the hot paths the server and the browser run.
//! Targets (issue 2): HS256 verify at most 5 µs, TOTP verify (window ±1) at most 10 µs.
#![allow(clippy::expect_used)] // Benchmark set-up: a failure should stop the run with its message.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use latchkey_core::hash::{hash_password, HashParams};
use latchkey_core::policy::{PasswordPolicy, UserAttributes};
use latchkey_core::token::{Claims, Expectations, Keys, TokenType};
use latchkey_core::totp::{self, TotpParams, TotpSecret};
use rand_core::OsRng;

fn policy(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let user = UserAttributes {
        email: Some("alice@example.com".into()),
        username: Some("alice".into()),
        ..Default::default()
    };
    policy.validate("warm up the dictionaries", &user);
    c.bench_function("policy validate (16 chars)", |b| {
        b.iter(|| policy.validate(black_box("Tr0ub4dor&3xyzw!"), &user))
    });
}

fn tokens(c: &mut Criterion) {
    let keys = Keys::hs256(b"a-secret-key-of-at-least-32-bytes!!").expect("keys");
    let now = 1_700_000_000;
    let mut claims = Claims::new(TokenType::Access, "42", now, 300, &mut OsRng);
    claims.extra.insert("email".into(), "alice@example.com".into());
    let token = keys.encode(&claims).expect("encode");
    let expect = Expectations::default();
    c.bench_function("HS256 verify (access token)", |b| {
        b.iter(|| keys.verify(black_box(&token), Some(TokenType::Access), now + 1, &expect).expect("valid"))
    });
}

fn totp_verify(c: &mut Criterion) {
    let secret = TotpSecret::generate(&mut OsRng);
    let params = TotpParams::default();
    let now = 1_700_000_000;
    // The worst case for a window of ±1: the code of the newest step, found last.
    let code = totp::code_at(&secret, &params, now + 30);
    c.bench_function("TOTP verify (window ±1, last step matches)", |b| {
        b.iter(|| totp::verify(&secret, &params, black_box(&code), now, 1, None).expect("valid"))
    });
}

fn argon2(c: &mut Criterion) {
    let params = HashParams::default();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("hash (m=19456 KiB, t=2, p=1)", |b| {
        b.iter(|| hash_password(black_box("correct horse battery staple"), &params, &[7; 16]).expect("hash"))
    });
    group.finish();
}

criterion_group!(benches, policy, tokens, totp_verify, argon2);
criterion_main!(benches);
