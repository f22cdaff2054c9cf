//! Small-count protection: rows of a breakdown (a path, a source, a device, a country, a
//! new page) that fewer than `reports.min_visitors` visitors account for are folded into
//! one row labelled [`OTHER`], so no report names a page, referrer or device that singles
//! one person out.
//!
//! Visitors in reports are visitor-days (one person is one visitor per day; days cannot
//! be linked), so a row reaches `k` with `k` people, or with one person on `k` different
//! days. Folding happens after the rows are merged across days and before `limit`: the
//! other row holds every small row of the range, and comes last.

/// The label of the row that holds the folded rows.
pub(crate) const OTHER: &str = "(other)";

/// What folding did to one report's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Folding {
    /// The threshold: rows with fewer visitors were folded.
    pub min_visitors: u64,
    /// How many rows were folded into the other row (0: no other row).
    pub folded_rows: usize,
}

/// Splits `rows` into the rows with at least `min_visitors` visitors, in their order, and
/// one row that adds up the others (the first small row, the others added to it by `add`,
/// relabelled by `label`), or none when no row is small. `min_visitors` of 0 or 1 folds
/// nothing.
pub(crate) fn fold<R>(
    rows: Vec<R>,
    min_visitors: u64,
    visitors: impl Fn(&R) -> u64,
    add: impl Fn(&mut R, &R),
    label: impl FnOnce(&mut R),
) -> (Vec<R>, Option<R>, Folding) {
    let (kept, small): (Vec<R>, Vec<R>) = rows.into_iter().partition(|row| visitors(row) >= min_visitors);
    let folding = Folding { min_visitors, folded_rows: small.len() };
    let mut small = small.into_iter();
    let other = small.next().map(|first| {
        let mut other = first;
        for row in small {
            add(&mut other, &row);
        }
        label(&mut other);
        other
    });
    (kept, other, folding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Row {
        name: &'static str,
        views: u64,
        visitors: u64,
    }

    fn row(name: &'static str, views: u64, visitors: u64) -> Row {
        Row { name, views, visitors }
    }

    fn fold_rows(rows: Vec<Row>, k: u64) -> (Vec<Row>, Option<Row>, Folding) {
        fold(
            rows,
            k,
            |row| row.visitors,
            |total, row| {
                total.views += row.views;
                total.visitors += row.visitors;
            },
            |other| other.name = "(other)",
        )
    }

    #[test]
    fn rows_under_the_threshold_are_added_up_into_one_other_row() {
        let rows = vec![row("/a", 40, 9), row("/b", 7, 2), row("/c", 20, 5), row("/d", 3, 1), row("/e", 4, 4)];
        let (kept, other, folding) = fold_rows(rows, 5);
        assert_eq!(kept, vec![row("/a", 40, 9), row("/c", 20, 5)]);
        assert_eq!(other, Some(row("(other)", 14, 7)));
        assert_eq!(folding, Folding { min_visitors: 5, folded_rows: 3 });
    }

    #[test]
    fn no_small_row_means_no_other_row() {
        let (kept, other, folding) = fold_rows(vec![row("/a", 10, 5), row("/b", 6, 6)], 5);
        assert_eq!(kept.len(), 2);
        assert_eq!(other, None);
        assert_eq!(folding.folded_rows, 0);
    }

    #[test]
    fn a_single_small_row_is_relabelled_too() {
        let (kept, other, _) = fold_rows(vec![row("/secret-user-page", 2, 1)], 5);
        assert!(kept.is_empty());
        assert_eq!(other, Some(row("(other)", 2, 1)), "the path of the one small row is not shown");
    }

    #[test]
    fn thresholds_of_zero_and_one_fold_nothing() {
        for k in [0, 1] {
            let (kept, other, _) = fold_rows(vec![row("/a", 1, 1), row("/b", 2, 1)], k);
            assert_eq!((kept.len(), other), (2, None), "k = {k}");
        }
    }
}
