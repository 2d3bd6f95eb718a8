//! Fuzz target `text`: see `evq::fuzzing::text` for what it runs and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evq::fuzzing::text(data);
});
