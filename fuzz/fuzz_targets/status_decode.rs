//! The status decoder (`Status::decode`, AUDIT_GET replies of any length) and
//! `Features::decode` (AUDIT_GET_FEATURE).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nlaudit_proto::{Features, Status};

fuzz_target!(|data: &[u8]| {
    match Status::decode(data) {
        Ok(s) => {
            assert!(data.len() >= 32, "decoded {} bytes", data.len());
            // The fields present are the fields sent: 32, 36, 40 or 44 bytes and more.
            assert_eq!(s.feature_bitmap.is_some(), data.len() >= 36);
            assert_eq!(s.backlog_wait_time.is_some(), data.len() >= 40);
            assert_eq!(s.backlog_wait_time_actual.is_some(), data.len() >= 44);
            let again = Status::decode(&s.encode()).expect("re-decodes");
            assert_eq!(again.enabled, s.enabled);
            assert_eq!(again.lost, s.lost);
        }
        Err(_) => assert!(data.len() < 32),
    }
    match Features::decode(data) {
        Ok(f) => assert_eq!(Features::decode(&f.encode()).expect("re-decodes"), f),
        Err(_) => assert!(data.len() < 16),
    }
});
