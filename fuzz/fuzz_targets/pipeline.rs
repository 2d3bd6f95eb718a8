//! Fuzz target `pipeline`: see `evq::fuzzing::pipeline` for what it runs and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evq::fuzzing::pipeline(data);
});
