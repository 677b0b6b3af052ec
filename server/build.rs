//! Release binaries compile `web-demo/` in (`src/http/demo.rs`): they are rebuilt when it changes,
//! and the build warns when the npm package has not been copied into `web-demo/pkg/` yet (the page
//! would load without its WebAssembly). Debug builds read `web-demo/` at run time and skip both.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    println!("cargo:rerun-if-changed=../web-demo");
    let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-demo/pkg/latchkey_bg.wasm");
    if !package.exists() {
        println!(
            "cargo:warning=web-demo/pkg/ is missing: the demo compiled into this binary will not run. \
             scripts/run.sh builds the npm package and copies it there (or: scripts/build-wasm.sh && \
             cp -r wasm/pkg/web web-demo/pkg) before building."
        );
    }
}
