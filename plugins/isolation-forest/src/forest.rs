//! The forest: isolation trees grown on subsamples as Liu, Ting and Zhou
//! (2008) describe and scikit-learn implements them, scored a row at a time
//! or, for many rows, a block at a time ([`Blocks`]).

use serde::{Deserialize, Serialize};

use crate::blocks::{Blocks, ROWS, Scratch, Visit};
use crate::rng::Rng;

/// Euler–Mascheroni constant.
const EULER: f64 = 0.577_215_664_901_532_9;

/// The average path length of an unsuccessful search in a binary search
/// tree of `n` points: c(n) of the paper, as scikit-learn computes it.
#[allow(clippy::cast_precision_loss, reason = "sample sizes far below 2^52")]
pub(crate) fn average_path(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER) - 2.0 * (n - 1.0) / n
        }
    }
}

/// A node: the split value (or, for a leaf, its depth plus c(points in
/// it)), the feature (`-1` for a leaf) and the index of the right child (the
/// left child is the next node).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node(f64, i32, u32);

/// One tree, its nodes in preorder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The nodes breadth-first, each with its depth and place.
    pub(crate) fn breadth_first(&self) -> Vec<Visit> {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut queue = std::collections::VecDeque::from([(0_usize, 0_usize, 0_usize)]);
        while let Some((at, depth, position)) = queue.pop_front() {
            let Some(&Node(value, feature, right)) = self.nodes.get(at) else {
                continue;
            };
            match usize::try_from(feature) {
                Ok(feature) => {
                    order.push(Visit {
                        depth,
                        position,
                        split: Some((feature, value)),
                        leaf: 0.0,
                    });
                    queue.push_back((at + 1, depth + 1, 2 * position));
                    queue.push_back((right as usize, depth + 1, 2 * position + 1));
                }
                Err(_) => order.push(Visit {
                    depth,
                    position,
                    split: None,
                    leaf: value,
                }),
            }
        }
        order
    }
}

impl Tree {
    /// The path length of `x`: its leaf's depth plus c(points in it).
    fn path(&self, x: &[f64]) -> f64 {
        let mut at = 0;
        while let Some(&Node(value, feature, right)) = self.nodes.get(at) {
            let Ok(feature) = usize::try_from(feature) else {
                return value;
            };
            let go_left = x.get(feature).is_none_or(|v| *v <= value);
            at = if go_left { at + 1 } else { right as usize };
        }
        0.0
    }

    /// Grow the subtree over `rows` (indexes into `data`) at `depth`.
    fn grow(
        &mut self,
        data: &[Vec<f64>],
        rows: &mut [usize],
        depth: usize,
        max_depth: usize,
        rng: &mut Rng,
    ) {
        let at = self.nodes.len();
        #[allow(clippy::cast_precision_loss, reason = "depths are small")]
        let leaf = depth as f64 + average_path(rows.len());
        self.nodes.push(Node(leaf, -1, 0));
        if depth >= max_depth || rows.len() <= 1 {
            return;
        }
        // A random feature that varies here (scikit-learn draws again for a
        // constant one); none varies: a leaf.
        let dims = data[rows[0]].len();
        let mut order: Vec<usize> = (0..dims).collect();
        let mut split = None;
        for tried in 0..dims {
            let pick = tried + rng.below(dims - tried);
            order.swap(tried, pick);
            let feature = order[tried];
            let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
            for &row in rows.iter() {
                min = min.min(data[row][feature]);
                max = max.max(data[row][feature]);
            }
            if max > min {
                let threshold = min + rng.unit() * (max - min);
                split = Some((feature, threshold.min(max)));
                break;
            }
        }
        let Some((feature, threshold)) = split else {
            return;
        };
        let mut left = 0;
        for i in 0..rows.len() {
            if data[rows[i]][feature] <= threshold {
                rows.swap(i, left);
                left += 1;
            }
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_possible_wrap,
            reason = "few features"
        )]
        {
            self.nodes[at] = Node(threshold, feature as i32, 0);
        }
        let (lower, upper) = rows.split_at_mut(left);
        self.grow(data, lower, depth + 1, max_depth, rng);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "trees far below 2^32 nodes"
        )]
        {
            self.nodes[at].2 = self.nodes.len() as u32;
        }
        self.grow(data, upper, depth + 1, max_depth, rng);
    }
}

/// A trained forest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Forest {
    trees: Vec<Tree>,
    /// c(subsample size): the normaliser of path lengths.
    normaliser: f64,
    /// The trees compiled for scoring blocks of rows, if they fit.
    #[serde(skip)]
    blocks: Option<Blocks>,
}

impl PartialEq for Forest {
    fn eq(&self, other: &Self) -> bool {
        self.trees == other.trees && self.normaliser.to_bits() == other.normaliser.to_bits()
    }
}

/// Fewer rows than this are scored one by one: a block costs the same for
/// 1 row as for 256.
const FEW: usize = 24;

impl Forest {
    /// Grow `trees` trees on subsamples of `sample_size` rows of `data`
    /// (without replacement), `ceil(log2(sample size))` deep.
    pub(crate) fn train(
        data: &[Vec<f64>],
        trees: usize,
        sample_size: usize,
        rng: &mut Rng,
    ) -> Self {
        let size = sample_size.min(data.len());
        let max_depth =
            usize::try_from(size.max(2).next_power_of_two().trailing_zeros()).unwrap_or(0);
        let mut all: Vec<usize> = (0..data.len()).collect();
        let trees = (0..trees)
            .map(|_| {
                // A partial Fisher–Yates shuffle draws the subsample.
                for i in 0..size {
                    let pick = i + rng.below(all.len() - i);
                    all.swap(i, pick);
                }
                let mut rows = all[..size].to_vec();
                let mut tree = Tree::default();
                tree.grow(data, &mut rows, 0, max_depth, rng);
                tree
            })
            .collect();
        let mut forest = Self {
            trees,
            normaliser: average_path(size).max(f64::MIN_POSITIVE),
            blocks: None,
        };
        forest.compile();
        forest
    }

    /// Compile the trees for [`Forest::score_rows`] (after a restore).
    pub(crate) fn compile(&mut self) {
        self.blocks = Blocks::new(self.trees.iter().map(Tree::breadth_first).collect());
    }

    /// The anomaly score of `x`: 2^(-mean path length / c(ψ)), in (0, 1];
    /// about 0.5 for ordinary points, near 1 for anomalies.
    #[cfg(test)]
    pub(crate) fn score(&self, x: &[f64]) -> f64 {
        self.score_of(self.trees.iter().fold(0.0, |sum, tree| sum + tree.path(x)))
    }

    /// The score of a row whose path lengths sum to `total`.
    #[allow(clippy::cast_precision_loss, reason = "tree counts are small")]
    fn score_of(&self, total: f64) -> f64 {
        if self.trees.is_empty() {
            return 0.5;
        }
        2f64.powf(-(total / self.trees.len() as f64) / self.normaliser)
    }

    /// The scores of `rows` (row-major, `dims` values each) into `scores`:
    /// [`Forest::score`] of each, computed a block of rows at a time when
    /// there are enough of them (see [`Blocks`]).
    pub(crate) fn score_rows(
        &self,
        rows: &[f64],
        dims: usize,
        scratch: &mut Scratch,
        scores: &mut Vec<f64>,
    ) {
        if dims == 0 {
            return;
        }
        let start = scores.len();
        for block in rows.chunks(ROWS * dims) {
            let blocked = match &self.blocks {
                Some(blocks) if block.len() >= FEW * dims => {
                    blocks.sums(block, dims, scratch, scores)
                }
                _ => false,
            };
            if !blocked {
                scores.extend(block.chunks_exact(dims).map(|row| {
                    self.trees
                        .iter()
                        .fold(0.0, |sum, tree| sum + tree.path(row))
                }));
            }
        }
        for score in &mut scores[start..] {
            *score = self.score_of(*score);
        }
    }

    pub(crate) fn is_trained(&self) -> bool {
        !self.trees.is_empty()
    }
}

/// The `q` quantile of `values` with linear interpolation (numpy's default).
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "indexes of a short vector"
)]
pub(crate) fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    if values.is_empty() {
        return f64::INFINITY;
    }
    values.sort_by(f64::total_cmp);
    let at = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let low = at.floor() as usize;
    let high = (low + 1).min(values.len() - 1);
    values[low] + (values[high] - values[low]) * (at - low as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_path_matches_the_paper() {
        assert_eq!(average_path(1), 0.0);
        assert_eq!(average_path(2), 1.0);
        // 2 H(255) - 2 * 255 / 256 with H(i) ~ ln i + gamma.
        let c = average_path(256);
        assert!((c - (2.0 * (255f64.ln() + EULER) - 2.0 * 255.0 / 256.0)).abs() < 1e-12);
    }

    #[test]
    fn an_isolated_point_scores_higher_than_the_crowd() {
        let mut rng = Rng::new(7);
        let mut data: Vec<Vec<f64>> = (0..500).map(|_| vec![rng.unit(), rng.unit()]).collect();
        data.push(vec![5.0, 5.0]);
        let forest = Forest::train(&data, 100, 256, &mut rng);
        let outlier = forest.score(&[5.0, 5.0]);
        let inlier = forest.score(&[0.5, 0.5]);
        assert!(outlier > 0.65 && inlier < 0.5, "{outlier} {inlier}");
    }

    /// Rows with ties on split values, repeats and values beyond every
    /// split, in `dims` features of which the last is constant.
    fn awkward_rows(rng: &mut Rng, n: usize, dims: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| {
                (0..dims)
                    .map(|d| match (d, i % 7) {
                        (d, _) if d + 1 == dims => 3.0,
                        (_, 0) => 1e6,
                        (_, 1) => -1e6,
                        (_, 2) => (rng.unit() * 8.0).round() / 8.0,
                        _ => rng.unit() * if d == 0 { 1.0 } else { 40.0 },
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn blocks_score_exactly_as_rows_one_by_one() {
        let mut rng = Rng::new(11);
        for (dims, sample_size, trees) in [
            (3, 256, 40),
            (6, 64, 25),
            (1, 7, 10),
            (9, 256, 5),
            (2, 512, 8),
        ] {
            let training = awkward_rows(&mut rng, 700, dims);
            let forest = Forest::train(&training, trees, sample_size, &mut rng);
            assert_eq!(forest.blocks.is_some(), sample_size <= 256, "{sample_size}");
            // Ties exactly on split values go left: take some splits as rows.
            let mut rows = awkward_rows(&mut rng, 900, dims);
            for tree in &forest.trees {
                for Node(value, feature, _) in &tree.nodes {
                    if let Ok(f) = usize::try_from(*feature) {
                        let mut row = rows[rows.len() % 13].clone();
                        row[f] = *value;
                        rows.push(row);
                    }
                }
            }
            let expected: Vec<f64> = rows.iter().map(|row| forest.score(row)).collect();
            let flat: Vec<f64> = rows.iter().flatten().copied().collect();
            let mut scratch = Scratch::default();
            // A whole batch, and batches of awkward sizes around the block.
            for size in [rows.len(), 1, 23, 24, 255, 256, 257, 600] {
                let mut scores = Vec::new();
                for chunk in flat.chunks(size * dims) {
                    forest.score_rows(chunk, dims, &mut scratch, &mut scores);
                }
                assert_eq!(scores, expected, "dims {dims}, batches of {size}");
            }
        }
    }

    #[test]
    fn constant_data_grows_single_leaves() {
        let data = vec![vec![1.0, 2.0]; 10];
        let forest = Forest::train(&data, 3, 8, &mut Rng::new(1));
        assert!(
            forest
                .trees
                .iter()
                .all(|t| t.nodes.len() == 1 && t.nodes[0].1 == -1)
        );
        assert!(
            (forest.score(&[1.0, 2.0]) - 0.5).abs() < 1e-12,
            "c(8) / c(8)"
        );
    }

    #[test]
    fn quantiles_interpolate_as_numpy() {
        assert_eq!(quantile(vec![1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(vec![3.0, 1.0], 1.0), 3.0);
    }
}
