//! Fuzz target `template`: see `evq::fuzzing::template` for what it runs and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evq::fuzzing::template(data);
});
