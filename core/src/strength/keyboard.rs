//! Keyboard adjacency graphs and zxcvbn's spatial matcher.
//!
//! zxcvbn ships its graphs pre-generated (about 40 KB of JSON). They are derived here at first use
//! from the four layout drawings, exactly as its `build_keyboard_adjacency_graphs.py` does: each
//! key's neighbours are listed clockwise from the left, and a neighbour's position in that list is
//! its direction.

use std::sync::OnceLock;

use super::matching::{Match, Pattern};

// Each keyboard row is drawn one column further right than the last, as keys are staggered.
const QWERTY: &str = r#"
`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) -_ =+
    qQ wW eE rR tT yY uU iI oO pP [{ ]} \|
     aA sS dD fF gG hH jJ kK lL ;: '"
      zZ xX cC vV bB nN mM ,< .> /?
"#;

const DVORAK: &str = r#"
`~ 1! 2@ 3# 4$ 5% 6^ 7& 8* 9( 0) [{ ]}
    '" ,< .> pP yY fF gG cC rR lL /? =+ \|
     aA oO eE uU iI dD hH tT nN sS -_
      ;: qQ jJ kK xX bB mM wW vV zZ
"#;

const KEYPAD: &str = "
  / * -
7 8 9 +
4 5 6
1 2 3
  0 .
";

const MAC_KEYPAD: &str = "
  = / *
7 8 9 -
4 5 6 +
1 2 3
  0 .
";

/// Neighbour offsets on a staggered keyboard: left, the two keys above, right, the two below.
const SLANTED: [(isize, isize); 6] = [(-1, 0), (0, -1), (1, -1), (1, 0), (0, 1), (-1, 1)];

/// Neighbour offsets on a keypad, whose columns are aligned: all eight, clockwise from the left.
const ALIGNED: [(isize, isize); 8] = [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1)];

/// zxcvbn's `SHIFTED_RX`: a keyboard pattern starting with one of these starts shifted.
const SHIFTED: &str = r#"~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?"#;

/// One layout's keys by position.
#[derive(Debug)]
pub(super) struct Graph {
    keypad: bool,
    /// `keys[y][x]`: the characters on the key at `(x, y)`, unshifted first.
    keys: Vec<Vec<Option<&'static str>>>,
    /// The `(x, y)` of each ASCII character's key.
    position: [Option<(usize, usize)>; 128],
}

impl Graph {
    /// zxcvbn's `build_graph`: a key's x is its column in the drawing, less the row's stagger,
    /// in units of a key's width plus one space.
    fn build(layout: &'static str, keypad: bool) -> Self {
        let token_size = layout.split_whitespace().next().map_or(1, str::len);
        let mut graph = Self { keypad, keys: Vec::new(), position: [None; 128] };
        for (y, line) in layout.split('\n').enumerate() {
            let slant = if keypad { 0 } else { y.saturating_sub(1) };
            let mut row = Vec::new();
            for token in line.split_whitespace() {
                let x = line.find(token).unwrap_or(0).saturating_sub(slant) / (token_size + 1);
                row.resize(row.len().max(x + 1), None);
                row[x] = Some(token);
                for c in token.bytes() {
                    if let Some(slot) = graph.position.get_mut(usize::from(c)) {
                        *slot = Some((x, y));
                    }
                }
            }
            graph.keys.push(row);
        }
        graph
    }

    fn key(&self, x: isize, y: isize) -> Option<&'static str> {
        let row = self.keys.get(usize::try_from(y).ok()?)?;
        *row.get(usize::try_from(x).ok()?)?
    }

    /// The keys around `c`'s key, in direction order (`None` past the edge), or `None` when `c` is
    /// not on this layout.
    fn neighbours(&self, c: char) -> Option<impl Iterator<Item = Option<&'static str>> + '_> {
        let (x, y) = (*self.position.get(usize::try_from(u32::from(c)).ok()?)?)?;
        let offsets: &[(isize, isize)] = if self.keypad { &ALIGNED } else { &SLANTED };
        Some(offsets.iter().map(move |&(dx, dy)| self.key(x as isize + dx, y as isize + dy)))
    }

    /// The direction from `prev`'s key to the neighbouring key holding `cur`, and whether `cur` is
    /// that key's shifted character.
    fn step(&self, prev: char, cur: char) -> Option<(usize, bool)> {
        self.neighbours(prev)?
            .enumerate()
            .find_map(|(direction, key)| Some((direction, key?.chars().position(|c| c == cur)? == 1)))
    }

    /// How many characters the layout has (zxcvbn's `STARTING_POSITIONS`).
    fn starting_positions(&self) -> usize {
        self.position.iter().flatten().count()
    }

    /// The mean number of neighbours per character (zxcvbn's `AVERAGE_DEGREE`).
    fn average_degree(&self) -> f64 {
        let chars = (0..128u8).filter(|&c| self.position[usize::from(c)].is_some());
        let degrees: usize = chars.filter_map(|c| self.neighbours(char::from(c))).map(|n| n.flatten().count()).sum();
        degrees as f64 / self.starting_positions() as f64
    }
}

/// qwerty, dvorak, keypad and Mac keypad, built on first use.
fn graphs() -> &'static [Graph; 4] {
    static GRAPHS: OnceLock<[Graph; 4]> = OnceLock::new();
    GRAPHS.get_or_init(|| {
        [
            Graph::build(QWERTY, false),
            Graph::build(DVORAK, false),
            Graph::build(KEYPAD, true),
            Graph::build(MAC_KEYPAD, true),
        ]
    })
}

/// zxcvbn's `(STARTING_POSITIONS, AVERAGE_DEGREE)`: qwerty's for keyboards and the keypad's for
/// keypads, as zxcvbn finds the other layouts close enough.
pub(super) fn starting_positions_and_degree(keypad: bool) -> (f64, f64) {
    static STATS: OnceLock<[(f64, f64); 2]> = OnceLock::new();
    let stats = STATS.get_or_init(|| {
        let [qwerty, _, keypad, _] = graphs();
        [qwerty, keypad].map(|graph| (graph.starting_positions() as f64, graph.average_degree()))
    });
    stats[usize::from(keypad)]
}

/// Finds chains of three or more adjacent keys on each layout.
pub(super) fn spatial_match(chars: &[char], out: &mut Vec<Match>) {
    for graph in graphs() {
        spatial_match_in(chars, graph, out);
    }
}

/// zxcvbn's `spatial_match_helper`: grow a chain while each key neighbours the last, counting the
/// changes of direction (the first step counts as one) and the shifted characters.
fn spatial_match_in(chars: &[char], graph: &Graph, out: &mut Vec<Match>) {
    let mut i = 0;
    while i + 1 < chars.len() {
        let mut j = i + 1;
        let mut last_direction = None;
        let mut turns = 0;
        let mut shifted_count = usize::from(!graph.keypad && SHIFTED.contains(chars[i]));
        while let Some((direction, shifted)) = chars.get(j).and_then(|&cur| graph.step(chars[j - 1], cur)) {
            shifted_count += usize::from(shifted);
            if last_direction != Some(direction) {
                turns += 1;
                last_direction = Some(direction);
            }
            j += 1;
        }
        if j - i > 2 {
            let pattern = Pattern::Spatial { keypad: graph.keypad, turns, shifted_count };
            out.push(Match::new(i, j - 1, pattern));
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn spatial(password: &str) -> Vec<(usize, usize, Pattern)> {
        let chars: Vec<char> = password.chars().collect();
        let mut out = Vec::new();
        spatial_match(&chars, &mut out);
        out.into_iter().map(|m| (m.i, m.j, m.pattern)).collect()
    }

    #[test]
    fn layouts_give_zxcvbns_constants() {
        assert_eq!(starting_positions_and_degree(false), (94.0, 4.595744680851064));
        assert_eq!(starting_positions_and_degree(true), (15.0, 5.066666666666666));
    }

    #[test]
    fn neighbours_are_clockwise_from_the_left() {
        let [qwerty, _, keypad, mac_keypad] = graphs();
        let around = |graph: &Graph, c| graph.neighbours(c).map(|n| n.collect::<Vec<_>>());
        let g = [Some("fF"), Some("tT"), Some("yY"), Some("hH"), Some("bB"), Some("vV")];
        assert_eq!(around(qwerty, 'g'), Some(g.to_vec()));
        assert_eq!(around(qwerty, 'G'), Some(g.to_vec()));
        let star = [Some("/"), None, None, None, Some("-"), Some("+"), Some("9"), Some("8")];
        assert_eq!(around(keypad, '*'), Some(star.to_vec()));
        let star = [Some("/"), None, None, None, None, None, Some("-"), Some("9")];
        assert_eq!(around(mac_keypad, '*'), Some(star.to_vec()));
        assert!(around(qwerty, 'é').is_none());
    }

    #[test]
    fn rows_are_one_turn() {
        let row = Pattern::Spatial { keypad: false, turns: 1, shifted_count: 0 };
        // Dvorak also sees a two-turn "yui" inside it.
        assert_eq!(spatial("qwertyuiop").first(), Some(&(0, 9, row)));
    }

    #[test]
    fn turns_and_shifts_are_counted() {
        let found = spatial("zxcvfR");
        assert!(found.contains(&(0, 5, Pattern::Spatial { keypad: false, turns: 2, shifted_count: 1 })));
        let found = spatial("!qaz");
        assert!(found.contains(&(0, 3, Pattern::Spatial { keypad: false, turns: 1, shifted_count: 1 })));
    }

    #[test]
    fn keypads_and_dvorak_are_searched() {
        assert!(spatial("7412").contains(&(0, 3, Pattern::Spatial { keypad: true, turns: 2, shifted_count: 0 })));
        // "aoeu" is dvorak's home row.
        assert!(spatial("aoeu").contains(&(0, 3, Pattern::Spatial { keypad: false, turns: 1, shifted_count: 0 })));
        assert!(spatial("qz").is_empty());
        assert!(spatial("").is_empty());
    }
}
