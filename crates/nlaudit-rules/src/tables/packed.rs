//! Number -> name tables without a pointer per row, built at compile time from the
//! generated `(number, name)` rows.
//!
//! Why: in a position-independent executable every `&str` in a static table is a pointer
//! the loader must relocate when the process starts, and every page of such a table is
//! written (a copy-on-write fault). The syscall, errno and message-type tables of both
//! generations held about 9,600 of them: 9,600 `R_X86_64_RELATIVE` entries applied and
//! about 50 pages copied by every `nlaudit` command, however short (issue 20,
//! docs/benchmarks.md). A [`NameTable`] keeps the numbers in one array, the names end to
//! end in one string and each name's end offset in a third: three pointers per table,
//! and the rows stay in read-only data that only the pages looked at are read from.
//!
//! The generated rows (`generated.rs`, `generated4.rs`) stay the one source: they are read
//! only here, at compile time, by [`name_table!`], and a test compares every packed table
//! with its rows.

/// A `(number, name)` table, packed (see the module docs). Rows keep their order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NameTable {
    nums: &'static [u32],
    /// The end offset of each name in `names` (a name starts where the previous one ends).
    ends: &'static [u16],
    names: &'static str,
    /// A hash index of the names (ASCII-case-insensitive; open addressing, linear probing,
    /// at most half full, [`EMPTY`] in free slots): name lookups (parsing) probe a slot or
    /// two instead of scanning every row.
    index: &'static [u16],
}

impl NameTable {
    /// A table from its packed parts (made by [`name_table!`]).
    pub(crate) const fn new(
        nums: &'static [u32],
        ends: &'static [u16],
        names: &'static str,
        index: &'static [u16],
    ) -> NameTable {
        assert!(nums.len() == ends.len(), "one end per number");
        assert!(index.len() == slots(nums.len()), "an index of slots(rows) slots");
        NameTable { nums, ends, names, index }
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.nums.len()
    }

    /// The name of row `i`.
    fn name_at(&self, i: usize) -> Option<&'static str> {
        let start = match i.checked_sub(1) {
            Some(prev) => usize::from(*self.ends.get(prev)?),
            None => 0,
        };
        self.names.get(start..usize::from(*self.ends.get(i)?))
    }

    /// Row `i`: (number, name).
    #[cfg(test)]
    pub(crate) fn row(&self, i: usize) -> Option<(u32, &'static str)> {
        Some((*self.nums.get(i)?, self.name_at(i)?))
    }

    /// The name of the first row numbered `n`.
    pub(crate) fn name(&self, n: u32) -> Option<&'static str> {
        self.name_at(self.nums.iter().position(|&x| x == n)?)
    }

    /// [`NameTable::name`] by binary search, for a table sorted by number (the syscall
    /// tables; a test checks they are).
    pub(crate) fn name_sorted(&self, n: u32) -> Option<&'static str> {
        self.name_at(self.nums.binary_search(&n).ok()?)
    }

    /// The number of the first row whose name is `name`, ASCII-case-insensitively (as
    /// libaudit's lookups).
    pub(crate) fn number(&self, name: &str) -> Option<u32> {
        let mask = self.index.len() - 1;
        let mut slot = hash_ci(name.as_bytes()) as usize & mask;
        // Rows were indexed in row order, so the first match along the probe sequence is
        // the first row of that name. The index is never full: the walk ends at a free slot.
        for _ in 0..self.index.len() {
            let row = *self.index.get(slot)?;
            if row == EMPTY {
                return None;
            }
            let row = usize::from(row);
            if self.name_at(row)?.eq_ignore_ascii_case(name) {
                return self.nums.get(row).copied();
            }
            slot = (slot + 1) & mask;
        }
        None
    }

    /// Every name, in row order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> {
        let t = *self;
        (0..t.len()).filter_map(move |i| t.name_at(i))
    }
}

/// A free slot of a [`NameTable`]'s index.
const EMPTY: u16 = u16::MAX;

/// FNV-1a of `bytes` with ASCII letters as lower case.
const fn hash_ci(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i].to_ascii_lowercase() as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}

/// The index slots of a table of `rows` rows: a power of two, at least twice the rows.
pub(crate) const fn slots(rows: usize) -> usize {
    (2 * rows).next_power_of_two()
}

/// The hash index of the names of `rows` (`S` is [`slots`]), filled in row order.
pub(crate) const fn pack_index<const S: usize>(rows: &[(u32, &str)]) -> [u16; S] {
    assert!(S == slots(rows.len()) && rows.len() < EMPTY as usize);
    let mut out = [EMPTY; S];
    let mut i = 0;
    while i < rows.len() {
        let mut slot = hash_ci(rows[i].1.as_bytes()) as usize & (S - 1);
        while out[slot] != EMPTY {
            slot = (slot + 1) & (S - 1);
        }
        out[slot] = i as u16;
        i += 1;
    }
    out
}

/// The summed length of the names of `rows`.
pub(crate) const fn names_len(rows: &[(u32, &str)]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < rows.len() {
        n += rows[i].1.len();
        i += 1;
    }
    n
}

/// The numbers of `rows`, in order (`N` is `rows.len()`).
pub(crate) const fn pack_nums<const N: usize>(rows: &[(u32, &str)]) -> [u32; N] {
    assert!(rows.len() == N);
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = rows[i].0;
        i += 1;
    }
    out
}

/// The end offset of each name of `rows` in their concatenation (`N` is `rows.len()`).
pub(crate) const fn pack_ends<const N: usize>(rows: &[(u32, &str)]) -> [u16; N] {
    assert!(rows.len() == N);
    assert!(names_len(rows) <= u16::MAX as usize, "names too long for u16 offsets");
    let mut out = [0; N];
    let mut end = 0;
    let mut i = 0;
    while i < N {
        end += rows[i].1.len();
        out[i] = end as u16;
        i += 1;
    }
    out
}

/// The names of `rows` end to end (`B` is [`names_len`]).
pub(crate) const fn pack_names<const B: usize>(rows: &[(u32, &str)]) -> [u8; B] {
    assert!(names_len(rows) == B);
    let mut out = [0; B];
    let mut o = 0;
    let mut i = 0;
    while i < rows.len() {
        let name = rows[i].1.as_bytes();
        let mut j = 0;
        while j < name.len() {
            out[o] = name[j];
            o += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// `bytes` as a `str`, at compile time (the concatenation of `str`s is UTF-8).
pub(crate) const fn utf8(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => panic!("table names are not UTF-8"),
    }
}

/// The [`NameTable`] of generated `(u32, &str)` rows (a path to a static or const), built
/// at compile time.
macro_rules! name_table {
    ($rows:path) => {{
        const NUMS: [u32; $rows.len()] = $crate::tables::packed::pack_nums($rows);
        const ENDS: [u16; $rows.len()] = $crate::tables::packed::pack_ends($rows);
        const NAMES: [u8; $crate::tables::packed::names_len($rows)] =
            $crate::tables::packed::pack_names($rows);
        const INDEX: [u16; $crate::tables::packed::slots($rows.len())] =
            $crate::tables::packed::pack_index($rows);
        $crate::tables::packed::NameTable::new(
            &NUMS,
            &ENDS,
            $crate::tables::packed::utf8(&NAMES),
            &INDEX,
        )
    }};
}
pub(crate) use name_table;

#[cfg(test)]
mod tests {
    static ROWS: &[(u32, &str)] = &[(3, "read"), (1, "Open"), (7, ""), (1, "dup")];

    #[test]
    fn lookups_match_the_rows() {
        let t = name_table!(ROWS);
        assert_eq!(t.len(), 4);
        assert_eq!(
            (0..4).map(|i| t.row(i)).collect::<Vec<_>>(),
            ROWS.iter().map(|r| Some(*r)).collect::<Vec<_>>()
        );
        assert_eq!(t.row(4), None);
        assert_eq!(t.name(1), Some("Open"), "the first row of a number");
        assert_eq!(t.name(7), Some(""));
        assert_eq!(t.name(2), None);
        assert_eq!(t.number("OPEN"), Some(1));
        assert_eq!(t.number("dup"), Some(1));
        assert_eq!(t.number(""), Some(7));
        assert_eq!(t.number("du"), None);
        assert_eq!(t.names().collect::<Vec<_>>(), ["read", "Open", "", "dup"]);
    }

    #[test]
    fn name_lookup_finds_the_first_row_case_insensitively() {
        static DUPS: &[(u32, &str)] =
            &[(5, "b"), (1, "A"), (2, "a"), (3, "ab"), (4, "B"), (6, "a_"), (7, "A[")];
        let t = name_table!(DUPS);
        for (name, expect) in [
            ("a", Some(1)),
            ("B", Some(5)),
            ("AB", Some(3)),
            ("a_", Some(6)),
            ("a[", Some(7)),
            ("c", None),
            ("", None),
            ("aa", None),
        ] {
            let linear = DUPS.iter().find(|r| r.1.eq_ignore_ascii_case(name)).map(|r| r.0);
            assert_eq!(linear, expect, "{name}");
            assert_eq!(t.number(name), expect, "{name}");
        }
    }

    #[test]
    fn sorted_lookup() {
        static SORTED: &[(u32, &str)] = &[(0, "a"), (2, "bb"), (5, "c")];
        let t = name_table!(SORTED);
        assert_eq!(t.name_sorted(2), Some("bb"));
        assert_eq!(t.name_sorted(5), Some("c"));
        assert_eq!(t.name_sorted(3), None);
    }
}
