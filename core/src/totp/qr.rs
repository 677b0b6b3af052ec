//! QR codes for enrolment URIs, rendered as SVG so the browser and emails can show them as-is.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::TotpError;

/// Smallest width and height of the image in pixels; phones read codes of this size reliably.
const MIN_SIZE: u32 = 200;

/// Renders `text` (normally [`OtpauthUri::to_uri`](super::OtpauthUri::to_uri)) as an SVG QR code.
///
/// Medium error correction survives a little glare or a smudged screen; the image has the
/// four-module quiet zone scanners need, black modules (`#000`) on white, and is at least
/// 200 pixels square.
///
/// # Errors
/// [`TotpError::QrDataTooLong`] when the text exceeds what the largest QR code holds at that error
/// correction (about 2,300 bytes).
pub fn qr_svg(text: &str) -> Result<String, TotpError> {
    // Byte mode takes any data, so running out of capacity is the only way encoding can fail.
    let code =
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| TotpError::QrDataTooLong)?;
    let image = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(MIN_SIZE, MIN_SIZE)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    Ok(image)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn renders_an_svg_document() {
        let image = qr_svg("otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example").unwrap();
        assert!(image.starts_with("<?xml") || image.starts_with("<svg"));
        assert!(image.contains("<svg") && image.trim_end().ends_with("</svg>"));
        assert!(image.contains(r##"fill="#000""##));
    }

    #[test]
    fn grows_with_the_data_and_keeps_a_minimum_size() {
        let small = qr_svg("a").unwrap();
        let large = qr_svg(&"a".repeat(1000)).unwrap();
        assert!(large.len() > small.len());
        let width: u32 =
            small.split("width=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().parse().unwrap();
        assert!(width >= MIN_SIZE);
    }

    #[test]
    fn refuses_data_that_does_not_fit() {
        assert_eq!(qr_svg(&"a".repeat(3000)), Err(TotpError::QrDataTooLong));
    }
}
