#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| confide_guard::fuzzing::guard_scan(data));
