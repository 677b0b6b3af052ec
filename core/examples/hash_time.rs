//! Prints the mean time of one argon2id hash with Latchkey's default parameters, and the login
//! capacity it implies on this machine (cores / hash time). Used by bench/load.sh.

use std::time::Instant;

use latchkey_core::hash::{hash_password, HashParams};

fn main() {
    let params = HashParams::default();
    let runs = 20;
    let started = Instant::now();
    for i in 0..runs {
        let salt = [i as u8; 16];
        if hash_password("correct horse battery staple", &params, &salt).is_err() {
            eprintln!("hashing failed");
            std::process::exit(1);
        }
    }
    let seconds = started.elapsed().as_secs_f64() / f64::from(runs);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "argon2id m={} KiB t={} p={}: {:.1} ms per hash; capacity {} cores / hash time = {:.0} logins/s",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        seconds * 1e3,
        cores,
        cores as f64 / seconds
    );
}
