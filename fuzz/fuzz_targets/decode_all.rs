#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| confide_protocol::fuzzing::decode_all(data));
