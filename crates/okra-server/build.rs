//! Tells the integration tests whether the PostgreSQL backend is to be tested: with
//! `OKRA_TEST_POSTGRES_URL` set at build time the `okra_test_postgres` cfg is on and
//! `backend_tests!` compiles the PostgreSQL variants; without it they are not compiled, and one
//! ignored test says so in `cargo test`'s output instead of dozens of tests passing having done
//! nothing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OKRA_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(okra_test_postgres)");
    if std::env::var("OKRA_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=okra_test_postgres");
    }
}
