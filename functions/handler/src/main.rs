//! The `handler` binary: the Azure Functions custom handler of the switch (see `handler::process`
//! for its configuration).

/// mimalloc: the switch allocates per request and per event, and glibc's malloc cost a sixth
/// of its CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), String> {
    handler::process::run().await
}
