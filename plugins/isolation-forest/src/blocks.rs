//! Scoring many points at once: a block of up to 256 rows goes down each
//! tree together, as sets of rows.
//!
//! For every feature and every split value the forest uses on it, the
//! block's rows above that value form a set: the *table*, built once per
//! block from each row's rank among the feature's split values
//! ([`Cuts::rank`]). A tree then costs a few set operations per node however
//! many rows there are: the rows reaching a node are a set, those going
//! right are that set AND the node's table entry, those going left it AND
//! NOT. The sets of rows going right at each depth are, bit by bit, every
//! row's leaf number in the complete tree of depth 8; transposed into a byte
//! per row, they index the leaves' path lengths, summed tree by tree in the
//! forest's order, as [`Tree::path`](crate::forest::Tree) sums them one row
//! at a time (the results are the same to the last bit).
//!
//! Trees up to depth 8 (subsamples up to 256 points, the default) fit, so a
//! leaf number is a byte; deeper forests are scored row by row. The table
//! holds (split values + features) sets of 32 bytes: about 230 KiB for 100
//! trees of 256, in the scratch space shared by the plugin's models.

use crate::cuts::Cuts;
use crate::lanes::{self, Lane};

/// Rows per block: two lanes of 128.
pub(crate) const ROWS: usize = 256;

/// The rows of a block, as two lanes.
type Set = [Lane; 2];

/// Deepest tree the blocks handle.
const DEPTH: usize = 8;

/// Slots for the sets of rows at each node: slot 1 + its breadth-first
/// index (at most 511 for 511 nodes), and two fixed ones.
const SLOTS: usize = 1024;
/// Always the empty set: where padding steps read.
const EMPTY: u16 = 1021;
/// Where padding steps write.
const SINK: u16 = 1018;

/// A node of a tree seen breadth-first (`Tree::breadth_first` in
/// `forest.rs`), what [`Blocks::new`] compiles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visit {
    /// Its depth (the root's is 0).
    pub depth: usize,
    /// Its position among the 2^depth places of the complete tree.
    pub position: usize,
    /// An inner node's feature and split value.
    pub split: Option<(usize, f64)>,
    /// A leaf's path length.
    pub leaf: f64,
}

/// One inner node, as the block scorer runs it.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// Its table entry (its feature's, at its split value's position).
    cut: u32,
    /// The slot of the rows reaching it.
    from: u16,
    /// The slot of the rows going left; those going right are the next.
    to: u16,
}

/// One tree: its inner nodes by depth, each depth padded to a multiple of 4
/// steps (so the loop runs in eights and fours), and its leaves' path
/// lengths by leaf number in the complete tree of depth 8.
#[derive(Debug, Clone)]
struct Packed {
    steps: Vec<Step>,
    /// Where each depth's steps start, and where the last ends.
    depths: [u32; DEPTH + 1],
    leaves: Box<[f64; 1 << DEPTH]>,
}

/// A forest compiled for blocks.
#[derive(Debug, Clone)]
pub(crate) struct Blocks {
    /// Per feature, the split values any node uses.
    features: Vec<Cuts>,
    /// Where each feature's entries start in the table: one per split value
    /// (the rows above it) and a last, empty one.
    offsets: Vec<u32>,
    table: usize,
    trees: Vec<Packed>,
}

/// Working space of [`Blocks::sums`], kept between calls.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    table: Vec<Set>,
    slots: Vec<Set>,
    /// Per tree, each row's leaf number: a byte per row, 8 to a word.
    leaves: Vec<[u64; ROWS / 8]>,
    ranks: Vec<u32>,
}

impl Blocks {
    /// The trees, each as its nodes breadth-first, compiled; `None` if one
    /// is deeper than 8 or has more than 255 inner nodes (it cannot, below
    /// depth 8) or there are none.
    #[allow(clippy::cast_possible_truncation, reason = "bounded above")]
    pub(crate) fn new(orders: Vec<Vec<Visit>>) -> Option<Self> {
        if orders.is_empty() {
            return None;
        }
        let mut features: Vec<Vec<f64>> = Vec::new();
        for order in &orders {
            for node in order {
                if node.depth > DEPTH {
                    return None;
                }
                if let Some((feature, value)) = node.split {
                    if node.depth >= DEPTH {
                        return None;
                    }
                    if features.len() <= feature {
                        features.resize(feature + 1, Vec::new());
                    }
                    features[feature].push(value);
                }
            }
        }
        let features: Vec<Cuts> = features.into_iter().map(Cuts::new).collect();
        let mut offsets = Vec::with_capacity(features.len());
        let mut table = 0_usize;
        for cuts in &features {
            offsets.push(u32::try_from(table).ok()?);
            table += cuts.len() + 1;
        }
        u32::try_from(table).ok()?;
        let mut packed = Vec::with_capacity(orders.len());
        for order in orders {
            let mut by_depth: Vec<Vec<Step>> = vec![Vec::new(); DEPTH];
            let mut leaves = Box::new([0.0; 1 << DEPTH]);
            let mut inner = 0_usize;
            for (index, node) in order.iter().enumerate() {
                match node.split {
                    Some((feature, value)) => {
                        let cut = offsets[feature] as usize + features[feature].position(value);
                        by_depth[node.depth].push(Step {
                            cut: cut as u32,
                            from: (index + 1) as u16,
                            to: (2 * inner + 2) as u16,
                        });
                        inner += 1;
                    }
                    None => leaves[node.position << (DEPTH - node.depth)] = node.leaf,
                }
            }
            if 2 * inner + 3 >= usize::from(SINK) {
                return None;
            }
            let mut steps = Vec::new();
            let mut depths = [0_u32; DEPTH + 1];
            for (depth, level) in by_depth.into_iter().enumerate() {
                depths[depth] = steps.len() as u32;
                steps.extend(level);
                while steps.len() % 4 != 0 {
                    steps.push(Step {
                        cut: 0,
                        from: EMPTY,
                        to: SINK,
                    });
                }
            }
            depths[DEPTH] = steps.len() as u32;
            packed.push(Packed {
                steps,
                depths,
                leaves,
            });
        }
        Some(Self {
            features,
            offsets,
            table,
            trees: packed,
        })
    }

    /// The summed path lengths of `rows` (row-major, `dims` values each, at
    /// most [`ROWS`] rows) into `sums`; false, and nothing added, if the rows
    /// lack some feature of the forest or are too many.
    pub(crate) fn sums(
        &self,
        rows: &[f64],
        dims: usize,
        scratch: &mut Scratch,
        sums: &mut Vec<f64>,
    ) -> bool {
        let n = rows.len() / dims.max(1);
        if dims < self.features.len() || n > ROWS {
            return false;
        }
        let zero = [lanes::zero(); 2];
        scratch.table.resize(self.table, zero);
        scratch.slots.resize(SLOTS, zero);
        scratch.leaves.resize(self.trees.len(), [0; ROWS / 8]);
        scratch.ranks.resize(ROWS, 0);
        self.fill_table(&rows[..n * dims], dims, scratch);
        let all = set(n, |r| r < n);
        let Scratch {
            table,
            slots,
            leaves,
            ..
        } = scratch;
        let Ok(slots) = <&mut [Set; SLOTS]>::try_from(&mut slots[..SLOTS]) else {
            return false;
        };
        let mut planes = [[lanes::zero(); DEPTH]; 2];
        for (tree, leaves) in self.trees.iter().zip(leaves.iter_mut()) {
            descend(tree, table, slots, all, &mut planes);
            let (low, high) = leaves.split_at_mut(ROWS / 16);
            if let (Ok(low), Ok(high)) = (
                <&mut [u64; 16]>::try_from(low),
                <&mut [u64; 16]>::try_from(high),
            ) {
                lanes::transpose(&planes[0], low);
                lanes::transpose(&planes[1], high);
            }
        }
        add_leaves(&self.trees, leaves, n, sums);
        true
    }

    /// The table for `rows`: each feature's entry k holds the rows whose
    /// value is above its split value k (rank above k).
    #[inline(never)]
    fn fill_table(&self, rows: &[f64], dims: usize, scratch: &mut Scratch) {
        let n = rows.len() / dims;
        for (feature, (cuts, offset)) in self.features.iter().zip(&self.offsets).enumerate() {
            let start = *offset as usize;
            let Some(entries) = scratch.table.get_mut(start..=start + cuts.len()) else {
                continue;
            };
            let ranks = &mut scratch.ranks[..n];
            for (rank, row) in ranks.iter_mut().zip(rows.chunks_exact(dims)) {
                *rank = cuts.rank(row[feature]);
            }
            scatter(entries, ranks);
        }
    }
}

/// The set of the first `n` of [`ROWS`] rows for which `member` holds.
fn set(n: usize, member: impl Fn(usize) -> bool) -> Set {
    let mut words = [0_u64; ROWS / 64];
    for r in 0..n.min(ROWS) {
        if member(r) {
            words[r / 64] |= 1 << (r % 64);
        }
    }
    [
        lanes::from_words(words[0], words[1]),
        lanes::from_words(words[2], words[3]),
    ]
}

/// Each row alone: `ONE[r]` = {r}.
static ONE: [Set; ROWS] = {
    let mut one = [[lanes::ZERO; 2]; ROWS];
    let mut r = 0;
    while r < ROWS {
        let bit = 1 << (r % 64);
        one[r] = match r / 64 {
            0 => [lanes::from_words(bit, 0), lanes::ZERO],
            1 => [lanes::from_words(0, bit), lanes::ZERO],
            2 => [lanes::ZERO, lanes::from_words(bit, 0)],
            _ => [lanes::ZERO, lanes::from_words(0, bit)],
        };
        r += 1;
    }
    one
};

/// Entry k := the rows whose rank is above k, for `ranks` (each at most
/// `entries.len() - 1`).
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
#[inline(never)]
fn scatter(entries: &mut [Set], ranks: &[u32]) {
    let empty = [lanes::zero(); 2];
    entries.fill(empty);
    // First entry k holds the rows of rank k ...
    for (one, rank) in ONE.iter().zip(ranks) {
        if let Some(entry) = entries.get_mut(*rank as usize) {
            *entry = [lanes::or(entry[0], one[0]), lanes::or(entry[1], one[1])];
        }
    }
    // ... then, from the top down, those of every rank above k (eight at
    // a time: in WebAssembly each turn of a loop costs an interruption check
    // and the spilling of its vectors).
    let mut above = empty;
    let mut chunks = entries.rchunks_exact_mut(8);
    for eight in &mut chunks {
        for entry in eight.iter_mut().rev() {
            let own = *entry;
            *entry = above;
            above = [lanes::or(above[0], own[0]), lanes::or(above[1], own[1])];
        }
    }
    for entry in chunks.into_remainder().iter_mut().rev() {
        let own = *entry;
        *entry = above;
        above = [lanes::or(above[0], own[0]), lanes::or(above[1], own[1])];
    }
}

/// Into `planes`, the rows going right at each depth of `tree`, per lane:
/// `[lane][depth]`.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
#[inline(never)]
fn descend(
    tree: &Packed,
    table: &[Set],
    slots: &mut [Set; SLOTS],
    all: Set,
    planes: &mut [[Lane; DEPTH]; 2],
) {
    let Some(last) = table.len().checked_sub(1) else {
        return;
    };
    slots[1] = all;
    slots[usize::from(EMPTY)] = [lanes::zero(); 2];
    for (depth, bounds) in tree.depths.windows(2).enumerate() {
        let (start, end) = (bounds[0] as usize, bounds[1] as usize);
        let steps = tree.steps.get(start..end).unwrap_or_default();
        let mut right = [lanes::zero(); 2];
        // Eight steps a turn where there are (see `scatter`), then four.
        let mut eights = steps.chunks_exact(8);
        for eight in &mut eights {
            for step in eight {
                right = split(step, table, last, slots, right);
            }
        }
        for four in eights.remainder().chunks_exact(4) {
            for step in four {
                right = split(step, table, last, slots, right);
            }
        }
        planes[0][depth % DEPTH] = right[0];
        planes[1][depth % DEPTH] = right[1];
    }
}

/// Split the rows reaching `step` into its children's slots; `right` with
/// those going right added.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
#[inline]
fn split(step: &Step, table: &[Set], last: usize, slots: &mut [Set; SLOTS], right: Set) -> Set {
    let rows = slots[usize::from(step.from) & (SLOTS - 1)];
    let above = table[(step.cut as usize).min(last)];
    let to = usize::from(step.to) & (SLOTS - 2);
    let go_right = [lanes::and(rows[0], above[0]), lanes::and(rows[1], above[1])];
    slots[to] = [
        lanes::and_not(rows[0], above[0]),
        lanes::and_not(rows[1], above[1]),
    ];
    slots[to + 1] = go_right;
    [
        lanes::or(right[0], go_right[0]),
        lanes::or(right[1], go_right[1]),
    ]
}

/// Add to `sums` each of the first `n` rows' path lengths, tree by tree.
#[inline(never)]
fn add_leaves(trees: &[Packed], leaves: &[[u64; ROWS / 8]], n: usize, sums: &mut Vec<f64>) {
    let add = |eight: &mut [f64; 8], tree: &Packed, word: u64| {
        for (b, sum) in eight.iter_mut().enumerate() {
            *sum += tree.leaves[((word >> (8 * b)) & 0xff) as usize];
        }
    };
    let fours = trees.len() / 4 * 4;
    for group in 0..n.div_ceil(8) {
        let word = group % (ROWS / 8);
        let mut eight = [0.0_f64; 8];
        // Four trees a turn (see `scatter`), in the forest's order.
        for (four, bytes) in trees[..fours].chunks_exact(4).zip(leaves.chunks_exact(4)) {
            for (tree, bytes) in four.iter().zip(bytes) {
                add(&mut eight, tree, bytes[word]);
            }
        }
        for (tree, bytes) in trees[fours..].iter().zip(&leaves[fours..]) {
            add(&mut eight, tree, bytes[word]);
        }
        // (Not `extend_from_slice`: in WebAssembly a copy this small costs
        // more as a `memory.copy` call than as pushes.)
        for sum in &eight[..(n - 8 * group).min(8)] {
            sums.push(*sum);
        }
    }
}
