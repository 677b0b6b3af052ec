#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The server's layers, checked on its source: `http` → `flows` → `store` → `infra`, each file
//! importing only from its own layer or the ones below; no file-level import cycle; HTTP types
//! (axum, tower, hyper) only in `http`; SQL only in `store` (and the connection in `infra::db`).
//! A file moved or a path written against the rule fails here, with the offending reference.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const LAYERS: [&str; 4] = ["http", "flows", "store", "infra"];

/// One source file: its module path (`["http", "mfa", "login"]`) and its text without comments,
/// strings and `#[cfg(test)]` modules.
struct Source {
    module: Vec<String>,
    text: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file, without comments, string contents and its test module.
fn code(text: &str) -> String {
    let text = text.replace("'\\\"'", "' '").replace("'\"'", "' '");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    match out.find("#[cfg(test)]\nmod ") {
        Some(at) => out[..at].to_owned(),
        None => out,
    }
}

fn sources() -> BTreeMap<Vec<String>, Source> {
    let root = src_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut sources = BTreeMap::new();
    for path in files {
        let relative = path.strip_prefix(&root).unwrap().with_extension("");
        let mut module: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            module.pop();
        }
        if relative == Path::new("main") {
            continue;
        }
        let text = code(&fs::read_to_string(&path).unwrap());
        sources.insert(module.clone(), Source { module, text });
    }
    sources
}

/// The files a file's `crate::…`, `super::…` and child-module paths name (the longest module
/// prefix of each path that is a file).
fn references(source: &Source, modules: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let words: Vec<&str> = source.text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).collect();
    for word in words {
        let parts: Vec<&str> = word.split("::").filter(|p| !p.is_empty()).collect();
        let Some(first) = parts.first() else { continue };
        let (base, rest): (Vec<String>, &[&str]) = match *first {
            "crate" => (Vec::new(), &parts[1..]),
            "super" => (source.module[..source.module.len().saturating_sub(1)].to_vec(), &parts[1..]),
            "self" => (source.module.clone(), &parts[1..]),
            child => {
                let mut path = source.module.clone();
                path.push(child.to_owned());
                if !modules.contains(&path) || parts.len() < 2 {
                    continue;
                }
                (source.module.clone(), &parts[..])
            }
        };
        let mut path = base;
        let mut target = None;
        for part in rest {
            path.push((*part).to_owned());
            if modules.contains(&path) {
                target = Some(path.clone());
            }
        }
        if let Some(target) = target.filter(|t| *t != source.module) {
            found.insert(target);
        }
    }
    found
}

fn layer(module: &[String]) -> Option<usize> {
    module.first().and_then(|first| LAYERS.iter().position(|l| l == first))
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "lib.rs".into()
    } else {
        module.join("/")
    }
}

#[test]
fn every_file_imports_only_from_its_own_layer_or_below() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.keys().cloned().collect();
    let mut wrong = Vec::new();
    for source in sources.values() {
        let Some(own) = layer(&source.module) else { continue };
        for target in references(source, &modules) {
            match layer(&target) {
                Some(other) if other >= own => {}
                _ => wrong.push(format!("{} -> {}", name(&source.module), name(&target))),
            }
        }
    }
    assert!(wrong.is_empty(), "upward or outside references:\n{}", wrong.join("\n"));
}

#[test]
fn no_file_level_import_cycle() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.keys().cloned().collect();
    let edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> =
        sources.values().map(|s| (s.module.clone(), references(s, &modules))).collect();
    // A file is on a cycle when it can reach itself.
    let mut cyclic = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Vec<String>> = edges[start].iter().collect();
        while let Some(next) = stack.pop() {
            if next == start {
                cyclic.push(name(start));
                break;
            }
            if seen.insert(next.clone()) {
                stack.extend(edges.get(next).into_iter().flatten());
            }
        }
    }
    assert!(cyclic.is_empty(), "files on an import cycle: {}", cyclic.join(", "));
}

#[test]
fn nothing_below_http_knows_axum_tower_or_hyper() {
    let mut wrong = Vec::new();
    for source in sources().values() {
        if matches!(layer(&source.module), Some(l) if l > 0) {
            for word in ["axum", "tower", "hyper"] {
                if source.text.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == word) {
                    wrong.push(format!("{} uses {word}", name(&source.module)));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The WebAuthn verifier is behind `infra/webauthn.rs`, and its types stay below the HTTP layer:
/// handlers pass the browser's JSON down and answer what the flows give back.
#[test]
fn webauthn_stays_below_http() {
    let mut wrong = Vec::new();
    for source in sources().values() {
        if source.text.contains("webauthn_rs_core") && source.module.first().is_some_and(|l| l == "http") {
            wrong.push(name(&source.module));
        }
    }
    assert!(wrong.is_empty(), "webauthn_rs_core in http/: {wrong:?}");
}

/// The social providers' protocol (OAuth 2, OpenID Connect, GitHub's API) is behind
/// `infra/social/`: the flows get who signed in, never a token response or a request.
#[test]
fn provider_protocols_stay_in_infra_social() {
    let mut wrong = Vec::new();
    for source in sources().values() {
        let protocol = ["oauth2::", "jsonwebtoken::"].iter().any(|s| source.text.contains(s));
        if protocol && !source.module.starts_with(&["infra".to_owned(), "social".to_owned()]) {
            wrong.push(name(&source.module));
        }
    }
    assert!(wrong.is_empty(), "provider protocols outside infra/social/: {wrong:?}");
}

/// One outbound HTTP client (`infra/outbound.rs`: no redirects, a timeout, a bounded answer, the
/// private-address filter) for every service the server calls: nothing else builds a request.
#[test]
fn outbound_http_goes_through_one_client() {
    let mut wrong = Vec::new();
    for source in sources().values() {
        if source.text.contains("reqwest::") && source.module != ["infra", "outbound"] {
            wrong.push(name(&source.module));
        }
    }
    assert!(wrong.is_empty(), "reqwest outside infra/outbound.rs: {wrong:?}");
}

#[test]
fn sql_is_written_only_in_store() {
    let mut with_sql = Vec::new();
    for source in sources().values() {
        let sql = ["sqlx::query", "query_scalar(", "query_as("].iter().any(|s| source.text.contains(s));
        let allowed = source.module.first().is_some_and(|l| l == "store") || source.module == ["infra", "db"];
        if sql && !allowed {
            with_sql.push(name(&source.module));
        }
    }
    assert!(with_sql.is_empty(), "SQL outside store/: {with_sql:?}");
}

/// What the node's cache of authenticated requests holds (`infra/auth_cache.rs`) is kept exact by
/// the writers: every store function that writes a user's row, or closes a session, must forget
/// it (`forget_user`, `forget_session`, `forget_all`) in the same function. Exempt, with reasons:
const WRITES_THE_CACHE_DOES_NOT_HOLD: [(&str, &str); 2] = [
    ("mfa_backoff", "mfa_failures and mfa_locked_until are not among USER_COLUMNS"),
    ("passkeys", "webauthn_handle is not among USER_COLUMNS"),
];

#[test]
fn every_write_to_what_the_auth_cache_holds_forgets_it() {
    let mut files = Vec::new();
    rust_files(&src_dir().join("store"), &mut files);
    let mut missing = Vec::new();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if WRITES_THE_CACHE_DOES_NOT_HOLD.iter().any(|(file, _)| *file == stem) {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        // One chunk per function: from one `fn ` at the start of a (possibly indented) line to the next.
        let mut starts: Vec<usize> = text.match_indices("fn ").map(|(i, _)| i).collect();
        starts.retain(|&i| {
            text[..i]
                .rsplit('\n')
                .next()
                .unwrap()
                .split_whitespace()
                .all(|w| ["pub", "pub(crate)", "async", "const"].contains(&w))
        });
        starts.push(text.len());
        for pair in starts.windows(2) {
            let body = &text[pair[0]..pair[1]];
            let writes_user = body.contains("UPDATE users") || body.contains("DELETE FROM users");
            let closes_session = body.contains("UPDATE sessions SET revoked_at");
            if (writes_user || closes_session) && !body.contains(".forget_") {
                let name = body[3..].split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap();
                missing.push(format!("store/{stem}.rs: fn {name}"));
            }
        }
    }
    assert!(missing.is_empty(), "writes that do not forget what the auth cache holds: {missing:#?}");
}
