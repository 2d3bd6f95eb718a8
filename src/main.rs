//! The `evq` binary: everything happens in `evq::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    evq::run(std::env::args_os()).into()
}
