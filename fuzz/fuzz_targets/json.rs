//! Fuzz target `json`: see `evq::fuzzing::json` for what it runs and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evq::fuzzing::json(data);
});
