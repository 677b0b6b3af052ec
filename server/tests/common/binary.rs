//! The real `latchkey` binary, run as a process: configured as the tests run it, started on a free
//! loopback port, and spoken to over HTTP.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use reqwest::StatusCode;
use serde_json::Value;

use super::fresh_dir;

/// A `latchkey` process, stopped when dropped.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, as the server announced it.
    pub base: String,
    /// What the process wrote on standard error, when that was piped (up to 1 MiB).
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    /// Removed once the server is stopped, unless the test failed (it is kept then, for a look).
    tidy: Option<PathBuf>,
}

impl Server {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        let addr = self.base.strip_prefix("http://").unwrap_or_else(|| panic!("{:?}", self.base));
        addr.parse().unwrap()
    }

    /// What the process has written on standard error so far (all of it once [`Server::stop`]ped),
    /// when it was started with that piped.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Kills the process, waits for it, and for its output to be read.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    /// Removes `dir` when the server is dropped, if the test passed.
    pub fn tidy_up(mut self, dir: PathBuf) -> Self {
        self.tidy = Some(dir);
        self
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.tidy {
            if !std::thread::panicking() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// The binary as the tests run it: on port 0 of the loopback address, with a SQLite database and
/// e-mail files in `dir`, its own keys, logging warnings. Later `env` calls override these.
pub fn latchkey(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .env("LATCHKEY_BIND", "127.0.0.1:0")
        .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
        .env("LATCHKEY_SECRET_KEY", "binary-secret-binary-secret-binary-secret")
        .env("LATCHKEY_ENCRYPTION_KEY", "binary-encryption-key")
        .env("LATCHKEY_EMAIL_BACKEND", format!("file:{}", dir.display()))
        .env("LATCHKEY_LOG", "warn");
    command
}

/// Starts `command` and waits until it listens. Standard output is read (so that the server never
/// blocks on a full pipe), and so is standard error when `command` pipes it (see [`Server::stderr`]).
pub fn spawn(mut command: Command) -> Server {
    let mut child = command.stdout(Stdio::piped()).spawn().expect("start latchkey");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    if let Some(mut pipe) = child.stderr.take() {
        let kept = stderr.clone();
        readers.push(std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                let mut kept = kept.lock().unwrap();
                if kept.len() < 1 << 20 {
                    kept.push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            }
        }));
    }
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read the first line");
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_owned();
    readers.push(std::thread::spawn(move || {
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    }));
    Server { child, base, stderr, readers, tidy: None }
}

/// Starts the binary with a fresh SQLite file in a fresh directory named after `name`, and
/// `settings` (environment variables) beside the defaults of [`latchkey`].
pub fn start(name: &str, settings: &[(&str, &str)]) -> Server {
    let mut command = latchkey(&fresh_dir(name));
    command.envs(settings.iter().copied());
    spawn(command)
}

/// `POST url` with a JSON body and an optional bearer token: the status and the JSON answer
/// (`Null` when it is not JSON).
pub async fn post_json(client: &reqwest::Client, url: String, body: Value, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs `latchkey create-superuser` as `command` is configured (its database), making `email` a
/// staff superuser with [`super::PASSWORD`]; panics, with its output, if it fails.
pub fn create_superuser(mut command: Command, email: &str) {
    use std::io::Write;
    let mut child = command
        .args(["create-superuser", "--email", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start latchkey create-superuser");
    child.stdin.take().expect("stdin").write_all(format!("{}\n", super::PASSWORD).as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
