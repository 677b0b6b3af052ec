//! Phone numbers for SMS codes: E.164 validation, the ITU calling code a number starts with, and the
//! masked form users see (`+1 ••• ••• 4567`).
//!
//! ```
//! use latchkey_server::infra::phone::PhoneNumber;
//! let number: PhoneNumber = "+44 20 7946 0958".parse().unwrap();
//! assert_eq!(number.as_str(), "+442079460958");
//! assert_eq!(number.calling_code(), 44);
//! assert_eq!(number.masked(), "+44 ••• ••• 0958");
//! assert!("+4".parse::<PhoneNumber>().is_err());
//! ```

use std::str::FromStr;

/// The geographic country calling codes ITU-T E.164 assigns (its list of 2024, with the shared
/// `+1` and `+7` zones as one code each), sorted. Non-geographic codes (`+800` freephone, `+870`
/// Inmarsat, `+881` satellite, `+882`/`+883` international networks, `+888`, `+979`) are left out:
/// no user's phone for SMS codes is there, and premium ranges are what SMS pumping pays for.
/// The codes are prefix-free (no code begins another), so a number has at most one: its first 1, 2
/// or 3 digits that are in this list. A unit test holds the list to that.
const CALLING_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60,
    61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211, 212, 213, 216, 218, 220, 221, 222, 223,
    224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246,
    247, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290,
    291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377, 378,
    379, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 590,
    591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685,
    686, 687, 688, 689, 690, 691, 692, 850, 852, 853, 855, 856, 880, 886, 960, 961, 962, 963, 964, 965, 966, 967, 968,
    970, 971, 972, 973, 974, 975, 976, 977, 992, 993, 994, 995, 996, 998,
];

/// Whether `code` is an assigned geographic calling code.
pub fn is_calling_code(code: u16) -> bool {
    CALLING_CODES.binary_search(&code).is_ok()
}

/// Why a text is not a phone number SMS codes can be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Not `+` followed by 8 to 15 digits, the first not 0.
    #[error("Enter a phone number in international format, such as +14155550100.")]
    NotE164,
    /// The digits begin with no assigned geographic calling code.
    #[error("This phone number's country calling code is not one SMS can be sent to.")]
    UnknownCallingCode,
}

/// An E.164 number: `+`, then 8 to 15 digits of which the first is not 0, beginning with an
/// assigned calling code. Spaces and hyphens between the digits are dropped when it is read.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    /// `+` and the digits.
    text: String,
    /// How many digits the calling code has (1 to 3).
    code_len: usize,
}

impl std::fmt::Debug for PhoneNumber {
    /// Masked: a number is personal data and stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PhoneNumber").field(&self.masked()).finish()
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(text: &str) -> Result<Self, PhoneError> {
        let text = text.trim();
        let digits = text.strip_prefix('+').ok_or(PhoneError::NotE164)?;
        let digits: String = digits.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let well_formed = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
            && !text.ends_with([' ', '-']);
        if !well_formed {
            return Err(PhoneError::NotE164);
        }
        let code_len = (1..=3)
            .find(|len| digits[..*len].parse().is_ok_and(is_calling_code))
            .ok_or(PhoneError::UnknownCallingCode)?;
        Ok(Self { text: format!("+{digits}"), code_len })
    }
}

impl PhoneNumber {
    /// The number as E.164 text: `+` and the digits.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The ITU calling code (`1`, `44`, `353`).
    pub fn calling_code(&self) -> u16 {
        self.text[1..=self.code_len].parse().unwrap_or(0)
    }

    /// What its user is shown: the calling code and the last 4 digits, the rest always as two groups
    /// of three dots (`+1 ••• ••• 4567`), so that the mask says nothing of the number's length.
    pub fn masked(&self) -> String {
        let last4 = &self.text[self.text.len() - 4..];
        format!("+{} ••• ••• {last4}", self.calling_code())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_calling_codes_are_sorted_and_prefix_free() {
        assert!(CALLING_CODES.windows(2).all(|w| w[0] < w[1]), "sorted, for the binary search");
        for code in CALLING_CODES {
            let text = code.to_string();
            for len in 1..text.len() {
                let prefix: u16 = text[..len].parse().unwrap();
                assert!(!is_calling_code(prefix), "{prefix} begins {code}");
            }
        }
    }

    #[test]
    fn calling_codes_of_one_two_and_three_digits_are_told_apart() {
        let code = |text: &str| text.parse::<PhoneNumber>().map(|n| n.calling_code());
        assert_eq!(code("+14155550100"), Ok(1));
        assert_eq!(code("+79161234567"), Ok(7));
        assert_eq!(code("+447911123456"), Ok(44), "+44 is the UK, not +4");
        assert_eq!(code("+4915123456789"), Ok(49));
        assert_eq!(code("+35312345678"), Ok(353), "+353 is Ireland: +3 and +35 are no codes");
        assert_eq!(code("+2348012345678"), Ok(234));
        assert_eq!(code("+8613812345678"), Ok(86));
        assert_eq!(code("+8801712345678"), Ok(880), "+880 is Bangladesh, +88 no code");
        assert_eq!(code("+80012345678"), Err(PhoneError::UnknownCallingCode), "freephone is not geographic");
        assert_eq!(code("+2591234567"), Err(PhoneError::UnknownCallingCode), "+259 is unassigned");
        assert_eq!(code("+42123456789"), Ok(421));
        assert_eq!(code("+42212345678"), Err(PhoneError::UnknownCallingCode), "+422 is unassigned");
    }

    #[test]
    fn only_e164_is_accepted() {
        let parse = |text: &str| text.parse::<PhoneNumber>();
        assert_eq!(parse(" +1 415-555-0100 ").unwrap().as_str(), "+14155550100", "spaces and hyphens go");
        assert_eq!(parse("+12345678").unwrap().as_str(), "+12345678", "8 digits is the least");
        assert_eq!(parse("+123456789012345").unwrap().as_str(), "+123456789012345", "15 the most");
        for bad in [
            "14155550100",
            "+1234567",
            "+1234567890123456",
            "+0123456789",
            "++14155550100",
            "+1415555010a",
            "+1 (415) 5550100",
            "+1415555010-",
            "+",
            "",
            "+١٤١٥٥٥٥٠١٠٠",
        ] {
            assert_eq!(parse(bad), Err(PhoneError::NotE164), "{bad}");
        }
    }

    #[test]
    fn the_mask_keeps_the_calling_code_and_the_last_four_digits() {
        let mask = |text: &str| text.parse::<PhoneNumber>().unwrap().masked();
        assert_eq!(mask("+14155554567"), "+1 ••• ••• 4567");
        assert_eq!(mask("+442079460958"), "+44 ••• ••• 0958");
        assert_eq!(mask("+35312345678"), "+353 ••• ••• 5678");
        let number: PhoneNumber = "+14155554567".parse().unwrap();
        assert_eq!(format!("{number:?}"), "PhoneNumber(\"+1 ••• ••• 4567\")", "no number in logs");
    }
}
