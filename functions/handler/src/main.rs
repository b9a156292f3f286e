//! The `handler` binary: the Azure Functions custom handler of the switch (see `handler::process`
//! for its configuration).

#[tokio::main]
async fn main() -> Result<(), String> {
    handler::process::run().await
}
