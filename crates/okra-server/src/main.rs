use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = okra_server::cli::Cli::parse();
    match okra_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("okra-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
