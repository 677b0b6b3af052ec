//! E-mail: the messages the file backend writes (one `.eml` file each), and the links in them.

use latchkey_server::config::EmailBackend;
use latchkey_server::AppState;

/// The messages the state's file mailer has written, oldest first, once there are at least `count`
/// (delivery runs after the answer; this waits up to 10 s for it).
pub async fn mails(state: &AppState, count: usize) -> Vec<String> {
    let EmailBackend::File(dir) = &state.config.email_backend else { panic!("the test state mails to files") };
    for _ in 0..200 {
        if read_all(dir).len() >= count {
            // A file may still be being written: read them all again once they have settled.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            return read_all(dir);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} e-mails arrived in {}", dir.display());
}

/// Every `.eml` file in `dir`, oldest first (by modification time, then name).
fn read_all(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "eml"))
        .map(|entry| (entry.metadata().unwrap().modified().unwrap(), entry.path()))
        .collect();
    files.sort();
    files.into_iter().map(|(_, path)| std::fs::read_to_string(path).unwrap()).collect()
}

/// The one message in `sent` with this subject.
pub fn mail_with<'a>(sent: &'a [String], subject: &str) -> &'a str {
    let line = format!("Subject: {subject}\r\n");
    let matching: Vec<&String> = sent.iter().filter(|mail| mail.contains(&line)).collect();
    assert_eq!(matching.len(), 1, "{} messages with subject {subject:?} among {sent:?}", matching.len());
    matching[0]
}

/// The `uid` and `token` of the first link to `page` in a message (quoted-printable soft breaks undone).
pub fn link_params(mail: &str, page: &str) -> (String, String) {
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = text.find(&format!("/{page}?uid=")).unwrap_or_else(|| panic!("no {page} link in {mail}"));
    let query = &text[start + page.len() + 2..];
    let end = query.find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(query.len());
    let mut uid = String::new();
    let mut token = String::new();
    for pair in query[..end].split('&') {
        match pair.split_once('=') {
            Some(("uid", value)) => uid = value.to_owned(),
            Some(("token", value)) => token = value.to_owned(),
            _ => {}
        }
    }
    (uid, token)
}
