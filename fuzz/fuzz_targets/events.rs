//! Fuzz target `events`: see `evq::fuzzing::events` for what it runs and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = evq::fuzzing::events(data);
});
