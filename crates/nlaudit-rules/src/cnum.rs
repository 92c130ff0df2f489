//! C's `strtol`/`strtoul` with base 0, as auditctl reads numbers: an optional sign, `0x` for
//! hex, a leading `0` for octal, and whatever follows the digits ignored. Out-of-range values
//! saturate as glibc does on 64-bit, then are truncated to the kernel's u32.

/// Parses the numeric prefix of `s` like `strtoul(s, NULL, 0)` on a 64-bit machine.
pub fn strtoul(s: &str) -> u64 {
    let (neg, mag) = parse(s);
    if neg {
        mag.wrapping_neg()
    } else {
        mag
    }
}

/// Parses the numeric prefix of `s` like `strtol(s, NULL, 0)` on a 64-bit machine.
pub fn strtol(s: &str) -> i64 {
    let (neg, mag) = parse(s);
    if neg {
        if mag > i64::MAX as u64 + 1 {
            i64::MIN
        } else {
            (mag as i64).wrapping_neg()
        }
    } else if mag > i64::MAX as u64 {
        i64::MAX
    } else {
        mag as i64
    }
}

/// The value auditctl stores in a u32 field after `strtoul`.
pub fn strtoul_u32(s: &str) -> u32 {
    strtoul(s) as u32
}

/// The value auditctl stores in a u32 field after `strtol`.
pub fn strtol_u32(s: &str) -> u32 {
    strtol(s) as u32
}

/// Sign and saturated magnitude of the numeric prefix.
fn parse(s: &str) -> (bool, u64) {
    let b = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']).as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let (radix, digits) = if (b.starts_with(b"0x") || b.starts_with(b"0X"))
        && b.get(2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        (16, &b[2..])
    } else if b.first() == Some(&b'0') {
        (8, b)
    } else {
        (10, b)
    };
    let mut v: u64 = 0;
    let mut overflow = false;
    for &c in digits {
        let d = match (c as char).to_digit(radix) {
            Some(d) => u64::from(d),
            None => break,
        };
        match v.checked_mul(u64::from(radix)).and_then(|x| x.checked_add(d)) {
            Some(x) => v = x,
            None => overflow = true,
        }
    }
    (neg, if overflow { u64::MAX } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_c() {
        for (s, ul, l) in [
            ("0", 0u64, 0i64),
            ("12abc", 12, 12),
            ("0x1F", 31, 31),
            ("010", 8, 8),
            ("-1", u64::MAX, -1),
            ("4294967295", 4_294_967_295, 4_294_967_295),
            ("99999999999999999999", u64::MAX, i64::MAX),
            ("0x", 0, 0),
            ("abc", 0, 0),
        ] {
            assert_eq!(strtoul(s), ul, "strtoul({s})");
            assert_eq!(strtol(s), l, "strtol({s})");
        }
        assert_eq!(strtol_u32("-1"), u32::MAX);
        assert_eq!(strtoul_u32("4294967296"), 0);
    }
}
