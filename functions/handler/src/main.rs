//! The `handler` binary: the Azure Functions custom handler of the switch (see `handler::process`
//! for its configuration).

/// mimalloc: the switch allocates per request and per event, and glibc's malloc cost a sixth
/// of its CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), String> {
    // The listener's connection cap, not the default soft limit of 1,024, bounds what the
    // process holds.
    if let Err(err) = plumbing::listen::raise_open_files_limit() {
        eprintln!("handler: cannot raise the open-files limit: {err}");
    }
    handler::process::run().await
}
