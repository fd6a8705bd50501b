//! The forest: isolation trees grown on subsamples as Liu, Ting and Zhou
//! (2008) describe and scikit-learn implements them, stored flat for fast
//! scoring.

use serde::{Deserialize, Serialize};

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

/// A node, in one 16-byte load: the split value (or, for a leaf, its
/// depth plus c(points in it)), the feature (`-1` for a leaf) and the index
/// of the right child (the left child is the next node).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node(f64, i32, u32);

/// One tree in preorder, and its compiled form for scoring.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    #[serde(skip)]
    compiled: Compiled,
}

impl PartialEq for Tree {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
    }
}

/// The tree for branch-free scoring: a leaf becomes a node that leads to
/// itself (threshold -∞: every value goes right, to the leaf), so every row
/// takes exactly `depth` steps and many rows can walk the tree in lockstep,
/// their loads overlapping instead of waiting on a mispredicted branch.
#[derive(Debug, Clone, Default)]
struct Compiled {
    /// (threshold, feature, right child).
    steps: Vec<(f64, u32, u32)>,
    /// Each leaf's path length (0 for inner nodes).
    paths: Vec<f64>,
    /// The deepest leaf's depth.
    depth: usize,
}

impl Tree {
    fn compile(&mut self) {
        let mut compiled = Compiled::default();
        for (at, Node(value, feature, right)) in self.nodes.iter().enumerate() {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "small"
            )]
            if *feature < 0 {
                compiled.steps.push((f64::NEG_INFINITY, 0, at as u32));
                compiled.paths.push(*value);
            } else {
                compiled.steps.push((*value, *feature as u32, *right));
                compiled.paths.push(0.0);
            }
        }
        // Depths, in preorder: a node's children are one deeper.
        let mut depths = vec![0_usize; self.nodes.len()];
        for (at, Node(_, feature, right)) in self.nodes.iter().enumerate() {
            if *feature >= 0 {
                depths[at + 1] = depths[at] + 1;
                depths[*right as usize] = depths[at] + 1;
            }
        }
        compiled.depth = depths.into_iter().max().unwrap_or(0);
        self.compiled = compiled;
    }
}

impl Tree {
    /// The path length of `x`, branch by branch (the reference the
    /// compiled form is tested against).
    #[cfg(test)]
    fn path(&self, x: &[f64]) -> f64 {
        let nodes = &self.nodes[..];
        let mut at = 0;
        loop {
            let Node(value, feature, right) = nodes[at];
            if feature < 0 {
                return value;
            }
            #[allow(clippy::cast_sign_loss, reason = "not negative here")]
            let go_left = x[feature as usize] <= value;
            at = if go_left { at + 1 } else { right as usize };
        }
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Forest {
    trees: Vec<Tree>,
    /// c(subsample size): the normaliser of path lengths.
    normaliser: f64,
}

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
        };
        forest.compile();
        forest
    }

    /// Prepare the trees for [`Forest::score_rows`] (after a restore).
    pub(crate) fn compile(&mut self) {
        self.trees.iter_mut().for_each(Tree::compile);
    }

    /// The anomaly score of `x`: 2^(-mean path length / c(ψ)), in (0, 1];
    /// about 0.5 for ordinary points, near 1 for anomalies.
    #[cfg(test)]
    #[allow(clippy::cast_precision_loss, reason = "tree counts are small")]
    pub(crate) fn score(&self, x: &[f64]) -> f64 {
        if self.trees.is_empty() {
            return 0.5;
        }
        let total: f64 = self.trees.iter().map(|tree| tree.path(x)).sum();
        let mean = total / self.trees.len() as f64;
        2f64.powf(-mean / self.normaliser)
    }

    /// The scores of `rows` (row-major, `dims` values each) into `scores`:
    /// the same as [`Forest::score`] row by row, but tree by tree over
    /// blocks of rows, so each tree stays in the cache while it scores them.
    #[allow(clippy::cast_precision_loss, reason = "tree counts are small")]
    pub(crate) fn score_rows(&self, rows: &[f64], dims: usize, scores: &mut Vec<f64>) {
        const BLOCK: usize = 64;
        let mut paths = [0.0_f64; BLOCK];
        let mut at = [0_u32; BLOCK];
        let trees = self.trees.len().max(1) as f64;
        for block in rows.chunks(BLOCK * dims) {
            let n = block.len() / dims;
            paths[..n].fill(0.0);
            for tree in &self.trees {
                let Compiled {
                    steps,
                    paths: leaves,
                    depth,
                } = &tree.compiled;
                at[..n].fill(0);
                for _ in 0..*depth {
                    for (cursor, row) in at[..n].iter_mut().zip(block.chunks_exact(dims)) {
                        let (threshold, feature, right) = steps[*cursor as usize];
                        *cursor = if row[feature as usize] <= threshold {
                            *cursor + 1
                        } else {
                            right
                        };
                    }
                }
                for (path, cursor) in paths[..n].iter_mut().zip(&at[..n]) {
                    *path += leaves[*cursor as usize];
                }
            }
            scores.extend(paths[..n].iter().map(|total| {
                if self.trees.is_empty() {
                    0.5
                } else {
                    2f64.powf(-(total / trees) / self.normaliser)
                }
            }));
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
        let mut blocked = Vec::new();
        let rows: Vec<f64> = data.iter().flatten().copied().collect();
        forest.score_rows(&rows, 2, &mut blocked);
        let one_by_one: Vec<f64> = data.iter().map(|row| forest.score(row)).collect();
        assert_eq!(blocked, one_by_one, "blocks score as rows do");
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
