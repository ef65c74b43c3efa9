#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| confide_protocol::fuzzing::open_envelope(data));
