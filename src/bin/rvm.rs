//! `rvm`: run rvm programs. The logic lives in [`rvm::cli::rvm`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rvm::cli::rvm::main(std::env::args_os()))
}
