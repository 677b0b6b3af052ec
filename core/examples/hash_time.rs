//! Prints the time of one argon2id hash with Latchkey's default parameters, alone and with every
//! core hashing at once, and the login capacity of this machine: the hashes per second all cores
//! complete together. Each hash fills 19 MiB, so hashes running side by side share the memory
//! bandwidth and each takes longer than one alone; cores / (one hash alone) overstates what the
//! machine can do. Used by bench/load.sh.

use std::time::Instant;

use latchkey_core::hash::{hash_password, HashParams};

const RUNS: usize = 20;

/// Hashes `RUNS` passwords; false when hashing failed.
fn hash_runs(params: &HashParams) -> bool {
    (0..RUNS).all(|i| hash_password("correct horse battery staple", params, &[i as u8; 16]).is_ok())
}

fn main() {
    let params = HashParams::default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut ok = hash_runs(&params);
    let alone = started.elapsed().as_secs_f64() / RUNS as f64;
    let started = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores).map(|_| scope.spawn(|| hash_runs(&params))).collect();
        ok &= threads.into_iter().all(|thread| thread.join().unwrap_or(false));
    });
    let together = started.elapsed().as_secs_f64();
    if !ok {
        eprintln!("hashing failed");
        std::process::exit(1);
    }
    let capacity = (cores * RUNS) as f64 / together;
    println!(
        "argon2id m={} KiB t={} p={}: {:.1} ms per hash alone, {:.1} ms with {} at once; \
         capacity {} cores hashing together = {:.0} logins/s (cores / hash alone would say {:.0})",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        alone * 1e3,
        together / RUNS as f64 * 1e3,
        cores,
        cores,
        capacity,
        cores as f64 / alone
    );
}
