//! The data stage's chunk planning, without I/O: which tables go first, and
//! whether a table is cut by its key or by ctid. The ranges themselves, their
//! predicates and their ledger form are the shared planner's
//! ([`crate::ranges`]).

use crate::ranges::KeyColumn;

/// How a table can be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Splitter {
    Key(Vec<KeyColumn>),
    Ctid,
}

/// How closely heap position follows key order in a sample sorted by key:
/// the correlation between each row's rank and its heap block, from -1 to
/// 1; 0 for fewer than two rows or no spread.
pub fn order_correlation(blocks: &[i64]) -> f64 {
    let n = blocks.len();
    if n < 2 {
        return 0.0;
    }
    let mean_rank = (n as f64 - 1.0) / 2.0;
    let mean_block = blocks.iter().map(|&b| b as f64).sum::<f64>() / n as f64;
    let (mut cov, mut var_rank, mut var_block) = (0.0, 0.0, 0.0);
    for (i, &b) in blocks.iter().enumerate() {
        let (dr, db) = (i as f64 - mean_rank, b as f64 - mean_block);
        cov += dr * db;
        var_rank += dr * dr;
        var_block += db * db;
    }
    if var_block == 0.0 {
        return 0.0;
    }
    cov / (var_rank * var_block).sqrt()
}

/// Largest tables first, so the longest copy starts at once and small tables
/// fill the gaps at the end; ties by name for a stable order.
pub fn largest_first<T>(items: &mut [T], key: impl Fn(&T) -> (u64, String)) {
    items.sort_by(|a, b| {
        let (ba, na) = key(a);
        let (bb, nb) = key(b);
        bb.cmp(&ba).then(na.cmp(&nb))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_first_breaks_ties_by_name() {
        let mut t = vec![(1, "b"), (5, "a"), (1, "a")];
        largest_first(&mut t, |x| (x.0, x.1.to_string()));
        assert_eq!(t, vec![(5, "a"), (1, "a"), (1, "b")]);
    }

    #[test]
    fn order_correlation_tells_ordered_from_scattered_keys() {
        let ordered: Vec<i64> = (0..1000).map(|i| i / 50).collect();
        assert!(order_correlation(&ordered) > 0.99);
        let reversed: Vec<i64> = ordered.iter().rev().copied().collect();
        assert!(order_correlation(&reversed) < -0.99);
        // Keys spread over blocks by a multiplicative hash: no order.
        let scattered: Vec<i64> = (0..1000u64)
            .map(|i| ((i * 2654435761) % 997) as i64)
            .collect();
        assert!(order_correlation(&scattered).abs() < 0.1);
        assert_eq!(order_correlation(&[5]), 0.0);
        assert_eq!(order_correlation(&[3, 3, 3]), 0.0);
    }
}
