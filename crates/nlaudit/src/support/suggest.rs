//! "Did you mean": the known names closest to a mistyped one, for nlaudit's own commands
//! (the auditctl drop-in keeps auditctl's exact messages).

/// Up to three of `known` within a small edit distance of `typed` (case-insensitive), the
/// closest first: one edit for names up to five characters, then one more per three.
pub fn similar<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let limit = 1 + typed.chars().count().saturating_sub(5) / 3;
    let mut close: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| (distance(&typed, &k.to_ascii_lowercase()), k))
        .filter(|&(d, _)| d > 0 && d <= limit)
        .collect();
    close.sort_unstable();
    close.dedup_by(|a, b| a.1 == b.1);
    close.into_iter().take(3).map(|(_, k)| k).collect()
}

/// `", did you mean X?"`, `", did you mean X or Y?"`, or nothing.
pub fn did_you_mean(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => format!(" (did you mean {last}?)"),
        Some((last, rest)) => format!(" (did you mean {} or {last}?)", rest.join(", ")),
    }
}

/// Levenshtein distance, with a transposition counted as one edit (optimal string
/// alignment): `opnat` -> `openat` is 1, `oepnat` -> `openat` is 1.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: i-2, i-1, i; every index is below b.len() + 1, their length.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let mut d = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
            if i > 0 && j > 0 && Some(&ca) == b.get(j - 1) && a.get(i - 1) == Some(&cb) {
                d = d.min(before[j - 1] + 1);
            }
            row[j + 1] = d;
        }
        before = std::mem::replace(&mut prev, row);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["open", "openat", "openat2", "close", "chmod", "fchmod", "execve"];

    fn check(typed: &str, expect: &[&str]) {
        assert_eq!(similar(typed, NAMES.iter().copied()), expect, "{typed}");
    }

    #[test]
    fn suggests_close_names() {
        check("opnat", &["openat"]);
        check("oepnat", &["openat"]);
        check("OPENATT", &["openat", "openat2"]);
        check("execv", &["execve"]);
        check("chmdo", &["chmod"]);
        check("bogus", &[]);
        check("openat", &["openat2"]); // an exact match is never suggested
        check("x", &[]);
    }

    #[test]
    fn says_it_in_words() {
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["openat"]), " (did you mean openat?)");
        assert_eq!(did_you_mean(&["a", "b", "c"]), " (did you mean a, b or c?)");
    }

    #[test]
    fn distance_counts_edits() {
        for (a, b, d) in [("", "", 0), ("a", "", 1), ("kitten", "sitting", 3), ("ab", "ba", 1)] {
            assert_eq!(distance(a, b), d, "{a} {b}");
        }
    }
}
