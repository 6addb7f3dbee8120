//! `rvmc`: compile rvm source to bytecode. The logic lives in [`rvm::cli::rvmc`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rvm::cli::rvmc::main(std::env::args_os()))
}
