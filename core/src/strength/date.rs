//! zxcvbn's date matcher: a day, a month and a 2- or 4-digit year in any usual order, written
//! without separators (`13051987`) or with the same separator twice (`13.5.87`).
//!
//! Like zxcvbn this checks ranges, not calendars: 31 February is a date.

use super::matching::{parse_digits, Match, Pattern};
use super::REFERENCE_YEAR;

const DATE_MIN_YEAR: i32 = 1000;
const DATE_MAX_YEAR: i32 = 2050;

/// zxcvbn's `DATE_SPLITS`: where the second and third numbers start in a run of 4 to 8 digits.
fn splits(len: usize) -> &'static [(usize, usize)] {
    match len {
        4 => &[(1, 2), (2, 3)],
        5 => &[(1, 3), (2, 3)],
        6 => &[(1, 2), (2, 4), (4, 5)],
        7 => &[(1, 3), (2, 3), (4, 5), (4, 6)],
        8 => &[(2, 4), (4, 6)],
        _ => &[],
    }
}

/// Finds every date, then keeps only those not inside another one ("2015_06_04" also holds
/// "15_06_04", "5_06_04" and more).
pub(super) fn date_match(chars: &[char], out: &mut Vec<Match>) {
    let mut found = Vec::new();
    for i in 0..chars.len() {
        for j in i + 3..(i + 8).min(chars.len()) {
            if let Some(year) = undivided_date(&chars[i..=j]) {
                found.push(Match::new(i, j, Pattern::Date { year, separator: false }));
            }
        }
    }
    for i in 0..chars.len() {
        for j in i + 5..(i + 10).min(chars.len()) {
            if let Some(year) = divided_date(&chars[i..=j]) {
                found.push(Match::new(i, j, Pattern::Date { year, separator: true }));
            }
        }
    }
    let inside_another =
        |a: usize, m: &Match| found.iter().enumerate().any(|(b, o)| a != b && o.i <= m.i && o.j >= m.j);
    out.extend(found.iter().enumerate().filter(|&(a, m)| !inside_another(a, m)).map(|(_, m)| m.clone()));
}

/// The year of a run of 4 to 8 digits read as a date, choosing among the ways to split it the one
/// whose year is closest to [`REFERENCE_YEAR`] (so "111504" is 11-15-04, not 1-1-1504).
fn undivided_date(token: &[char]) -> Option<i32> {
    let years = splits(token.len()).iter().filter_map(|&(k, l)| {
        map_ints_to_dmy([parse_digits(&token[..k])?, parse_digits(&token[k..l])?, parse_digits(&token[l..])?])
    });
    years.fold(None, |best, year| match best {
        Some(b) if (year - REFERENCE_YEAR).abs() >= (b - REFERENCE_YEAR).abs() => best,
        _ => Some(year),
    })
}

/// The year of a token matching zxcvbn's `^(\d{1,4})([\s/\\_.-])(\d{1,2})\2(\d{1,4})$`, read as a
/// date.
fn divided_date(token: &[char]) -> Option<i32> {
    let digits =
        |from: usize| token.get(from..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count());
    let first = digits(0);
    let separator = *token.get(first)?;
    let second = digits(first + 1);
    let third_start = first + 2 + second;
    let third = digits(third_start);
    let well_formed = (1..=4).contains(&first)
        && (separator.is_whitespace() || "/\\_.-".contains(separator))
        && (1..=2).contains(&second)
        && token.get(first + 1 + second) == Some(&separator)
        && (1..=4).contains(&third)
        && third_start + third == token.len();
    if !well_formed {
        return None;
    }
    let number = |from: usize, len: usize| parse_digits(&token[from..from + len]);
    map_ints_to_dmy([number(0, first)?, number(first + 1, second)?, number(third_start, third)?])
}

/// zxcvbn's `map_ints_to_dmy`: the year of three numbers read as day, month and year in some
/// order, with the year first or last, or `None` if they cannot be a date.
fn map_ints_to_dmy(ints: [i32; 3]) -> Option<i32> {
    if !(1..=31).contains(&ints[1]) {
        return None;
    }
    if ints.iter().any(|&n| (100..DATE_MIN_YEAR).contains(&n) || n > DATE_MAX_YEAR) {
        return None;
    }
    let count = |test: fn(i32) -> bool| ints.iter().filter(|&&n| test(n)).count();
    if count(|n| n > 31) >= 2 || count(|n| n > 12) == 3 || count(|n| n <= 0) >= 2 {
        return None;
    }
    let year_splits = [(ints[2], [ints[0], ints[1]]), (ints[0], [ints[1], ints[2]])];
    // A four-digit year decides: the rest must then be a day and a month.
    if let Some(&(year, rest)) = year_splits.iter().find(|(year, _)| (DATE_MIN_YEAR..=DATE_MAX_YEAR).contains(year)) {
        return is_day_and_month(rest).then_some(year);
    }
    year_splits.iter().find(|(_, rest)| is_day_and_month(*rest)).map(|&(year, _)| two_to_four_digit_year(year))
}

fn is_day_and_month([a, b]: [i32; 2]) -> bool {
    let day_month = |d: i32, m: i32| (1..=31).contains(&d) && (1..=12).contains(&m);
    day_month(a, b) || day_month(b, a)
}

/// 87 is 1987 and 15 is 2015, as in zxcvbn.
fn two_to_four_digit_year(year: i32) -> i32 {
    match year {
        y if y > 99 => y,
        y if y > 50 => y + 1900,
        y => y + 2000,
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn dates(password: &str) -> Vec<(usize, usize, Pattern)> {
        let chars: Vec<char> = password.chars().collect();
        let mut out = Vec::new();
        date_match(&chars, &mut out);
        out.into_iter().map(|m| (m.i, m.j, m.pattern)).collect()
    }

    #[test]
    fn dates_with_separators() {
        for (password, year) in [("1985-03-17", 1985), ("17/3/85", 1985), ("1.1.91", 1991), ("3 12 2021", 2021)] {
            let len = password.chars().count();
            assert_eq!(dates(password), [(0, len - 1, Pattern::Date { year, separator: true })], "{password}");
        }
    }

    #[test]
    fn separators_must_agree() {
        assert!(dates("17/03-85").iter().all(|(_, _, p)| *p != Pattern::Date { year: 1985, separator: true }));
    }

    #[test]
    fn dates_without_separators_prefer_years_near_the_reference() {
        assert_eq!(dates("19850317"), [(0, 7, Pattern::Date { year: 1985, separator: false })]);
        assert_eq!(dates("111504"), [(0, 5, Pattern::Date { year: 2004, separator: false })]);
        // 1-1-91 and 11-9-01 both fit; 2001 is nearer the reference year.
        assert_eq!(dates("x1191x"), [(1, 4, Pattern::Date { year: 2001, separator: false })]);
    }

    #[test]
    fn dates_inside_dates_are_dropped() {
        assert_eq!(dates("2015_06_04"), [(0, 9, Pattern::Date { year: 2015, separator: true })]);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert_eq!(map_ints_to_dmy([1, 32, 1990]), None);
        assert_eq!(map_ints_to_dmy([1, 0, 1990]), None);
        assert_eq!(map_ints_to_dmy([13, 13, 13]), None);
        assert_eq!(map_ints_to_dmy([40, 1, 40]), None);
        assert_eq!(map_ints_to_dmy([1, 1, 500]), None);
        assert_eq!(map_ints_to_dmy([1, 1, 2051]), None);
        assert_eq!(map_ints_to_dmy([1990, 13, 13]), None);
        assert!(dates("abcd").is_empty() && dates("").is_empty());
    }
}
