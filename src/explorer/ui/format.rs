//! The one number formatter of the explorer's screens, so a value reads the same in every panel.
//!
//! - [`param`]: parameters (weights, means, standard deviations, coordinates): fixed notation
//!   with at least 4 significant digits from 1e-3 to 1e6, the integer part never rounded
//!   (20 923, 9 710, 0.04800), thousands grouped by a space; scientific outside (2.5e-4, 1.235e7,
//!   trailing zeros of the mantissa dropped); 0 as 0.
//! - [`change`]: a Δ next to a value, never printed with more precision than the value itself
//!   (a mean of 20 923 moving by 24.94 shows Δ +25).
//! - [`score`]: a log-likelihood, Q or BIC with the decimals that show the change between
//!   iterations (at least 3), so convergence stays visible.
//! - [`nice_step`] / [`ticks`]: round numbers for axis labels.

/// Significant digits of parameters.
const DIGITS: i32 = 4;

/// Fixed notation from this magnitude …
const FIXED_FROM: f64 = 1e-3;

/// … up to (not including) this one.
const FIXED_BELOW: f64 = 1e6;

/// The most decimals [`score`] shows, whatever the change (beyond this is rounding).
const MAX_SCORE_DECIMALS: usize = 10;

/// The decimal exponent of `value` (floor of log10 |value|), for finite non-zero values.
fn exponent(value: f64) -> i32 {
    let mut e = value.abs().log10().floor() as i32;
    // log10 can land a hair below an exact power of ten.
    if value.abs() >= 10f64.powi(e + 1) {
        e += 1;
    }
    e
}

/// Decimals of `value` in fixed notation with at least [`DIGITS`] significant digits.
fn fixed_decimals(value: f64) -> usize {
    (DIGITS - 1 - exponent(value)).max(0) as usize
}

/// Whether `value` is written in fixed notation.
fn is_fixed(value: f64) -> bool {
    let magnitude = value.abs();
    (FIXED_FROM..FIXED_BELOW).contains(&magnitude)
}

/// Groups the integer part of a plain decimal string by thousands with spaces (only from
/// 1 000 up: 9 710, 20 923, but 999.5).
fn grouped(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => text
            .strip_prefix('+')
            .map_or(("", text), |rest| ("+", rest)),
    };
    let (integer, fraction) = match digits.find('.') {
        Some(at) => digits.split_at(at),
        None => (digits, ""),
    };
    if integer.len() < 4 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + integer.len() / 3);
    out.push_str(sign);
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out.push_str(fraction);
    out
}

/// Scientific notation with `digits` significant digits, trailing zeros of the mantissa dropped
/// (1e-5, 2.5e-4, 1.235e7).
fn scientific(value: f64, digits: i32) -> String {
    let text = format!("{value:.prec$e}", prec = (digits - 1).max(0) as usize);
    match text.split_once('e') {
        Some((mantissa, exp)) if mantissa.contains('.') => {
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            format!("{mantissa}e{exp}")
        }
        _ => text,
    }
}

/// The first of `candidates` (longest first) that fits in `width` characters, else the last:
/// notes shorten themselves before the terminal cuts them.
pub fn first_fitting(candidates: Vec<String>, width: usize) -> String {
    let last = candidates.len().saturating_sub(1);
    candidates
        .into_iter()
        .enumerate()
        .find(|(i, note)| *i == last || note.chars().count() <= width)
        .map(|(_, note)| note)
        .unwrap_or_default()
}

/// A parameter: see the module documentation.
pub fn param(value: f64) -> String {
    if value == 0.0 {
        "0".into()
    } else if !value.is_finite() {
        format!("{value}")
    } else if is_fixed(value) {
        // The decimals of the value as rounded, so 0.99995 reads 1.000, not 1.0000.
        let rounded = format!("{value:.3e}").parse().unwrap_or(value);
        let decimals = fixed_decimals(rounded);
        grouped(&format!("{value:.decimals$}"))
    } else {
        scientific(value, DIGITS)
    }
}

/// A parameter with an explicit sign (+0.0294, −0.0294).
pub fn signed(value: f64) -> String {
    if value >= 0.0 {
        format!("+{}", param(value))
    } else {
        param(value)
    }
}

/// The place of the last digit [`param`] shows of `value` (1 for 20 923, 1e-4 for 0.9000).
fn quantum(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        f64::NAN
    } else if is_fixed(value) {
        10f64.powi(-(fixed_decimals(value) as i32))
    } else {
        10f64.powi(exponent(value) - (DIGITS - 1))
    }
}

/// A change `delta` of a value shown as `reference`: rounded to the last digit shown of the
/// reference, with a sign; "0" when it rounds away. With no usable reference it is a
/// [`signed`] parameter.
pub fn change(delta: f64, reference: f64) -> String {
    let quantum = quantum(reference);
    if !quantum.is_finite() || !delta.is_finite() {
        return signed(delta);
    }
    let steps = (delta / quantum).round();
    if steps == 0.0 {
        return "0".into();
    }
    let rounded = steps * quantum;
    // Significant digits the rounding leaves: those of |Δ| down to the quantum.
    let digits = (exponent(rounded) - exponent(quantum) + 1).clamp(1, DIGITS);
    let text = if is_fixed(reference) {
        let decimals = (-exponent(quantum)).max(0) as usize;
        grouped(&format!("{rounded:.decimals$}"))
    } else {
        scientific(rounded, digits)
    };
    if rounded > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// Decimals that show a change of `delta` in a log-likelihood (two digits of it), at least 3.
pub fn score_decimals(delta: Option<f64>) -> usize {
    match delta.filter(|d| d.is_finite() && *d != 0.0) {
        Some(d) => ((1 - exponent(d)).max(3) as usize).min(MAX_SCORE_DECIMALS),
        None => 3,
    }
}

/// A log-likelihood, Q or BIC showing the change `delta` (see [`score_decimals`]).
pub fn score(value: f64, delta: Option<f64>) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let decimals = score_decimals(delta);
    format!("{value:.decimals$}")
}

/// A value with a fixed number of decimals (correlations, responsibilities, percentages).
pub fn fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    // Fixed decimals of a huge value would print every digit of it (150 for 1e149).
    if value.abs() >= 1e9 {
        return format!("{value:.3e}");
    }
    let text = format!("{value:.decimals$}");
    // "-0.00" says nothing a plain zero does not.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

/// A round step (1, 2 or 5 × 10^e) giving about `count` intervals over `span`.
pub fn nice_step(span: f64, count: usize) -> f64 {
    if !span.is_finite() || span <= 0.0 {
        return 1.0;
    }
    let raw = span / count.max(1) as f64;
    let power = 10f64.powi(exponent(raw));
    let fraction = raw / power;
    let nice = if fraction < 1.5 {
        1.0
    } else if fraction < 3.0 {
        2.0
    } else if fraction < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The multiples of a round step inside [low, high] (about `count` intervals).
pub fn ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    let step = nice_step(high - low, count);
    let first = (low / step).ceil();
    let last = (high / step).floor();
    if !first.is_finite() || !last.is_finite() || last < first || last - first > 1000.0 {
        return Vec::new();
    }
    (first as i64..=last as i64)
        .map(|i| {
            let value = i as f64 * step;
            // −0 and rounding noise (0.30000000000000004) print as the round number they are.
            if value.abs() < step * 1e-9 {
                0.0
            } else {
                value
            }
        })
        .collect()
}

/// An axis tick: a round value printed with no more digits than its step needs.
pub fn tick(value: f64, step: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if is_fixed(step) || (step >= 1.0 && value.abs() < FIXED_BELOW) {
        let decimals = (-exponent(step)).max(0) as usize;
        format!("{value:.decimals$}")
    } else {
        scientific(
            value,
            (exponent(value) - exponent(step) + 1).clamp(1, DIGITS),
        )
    }
}

/// Round bounds [floor, ceil] of [low, high] to a step giving about `count` intervals, for
/// chart axes whose labels sit at the bounds.
pub fn nice_bounds(low: f64, high: f64, count: usize) -> (f64, f64, f64) {
    let step = nice_step(high - low, count);
    let (a, b) = ((low / step).floor() * step, (high / step).ceil() * step);
    if a.is_finite() && b.is_finite() && b > a {
        (a, b, step)
    } else {
        (low, high, step)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_decimals_of_a_huge_value_switch_to_an_exponent() {
        assert_eq!(super::fixed(4.355e149, 3), "4.355e149");
        assert_eq!(super::fixed(-2.5e9, 2), "-2.500e9");
        assert_eq!(super::fixed(123_456.789, 2), "123456.79");
    }

    use super::*;

    #[test]
    fn galaxies_means_read_in_full() {
        // Component means of the Galaxies velocities (km/s).
        assert_eq!(param(20_923.4), "20 923");
        assert_eq!(param(9_710.2), "9 710");
        assert_eq!(param(22_900.0), "22 900");
        assert_eq!(param(23_400.0), "23 400");
        assert_eq!(param(33_044.0), "33 044");
        assert_eq!(param(-20_923.4), "-20 923");
        assert_eq!(param(999_999.0), "999 999");
    }

    #[test]
    fn fixed_from_a_thousandth_to_a_million_with_four_digits() {
        assert_eq!(param(0.0480), "0.04800");
        assert_eq!(param(0.125), "0.1250");
        assert_eq!(param(3.0), "3.000");
        assert_eq!(param(-2.691), "-2.691");
        assert_eq!(param(123.456), "123.5");
        assert_eq!(param(1e-3), "0.001000");
        assert_eq!(param(0.999_95), "1.000");
    }

    #[test]
    fn tiny_and_huge_values_are_scientific() {
        assert_eq!(param(2.5e-4), "2.5e-4");
        assert_eq!(param(1e-6), "1e-6");
        assert_eq!(param(1.234_56e7), "1.235e7");
        assert_eq!(param(1e6), "1e6");
        assert_eq!(param(-3.2e-9), "-3.2e-9");
        assert_eq!(param(0.0), "0");
        assert_eq!(param(-0.0), "0");
        assert_eq!(param(f64::NAN), "NaN");
    }

    #[test]
    fn a_change_is_never_finer_than_its_value() {
        // μ 20 923 moving by 24.94: the mean shows units, so does its change.
        assert_eq!(change(24.94, 20_923.0), "+25");
        assert_eq!(change(-24.94, 20_923.0), "-25");
        assert_eq!(change(0.3, 20_923.0), "0");
        // λ 0.3710 (4 decimals) moving by 6.1e-4.
        assert_eq!(change(6.1e-4, 0.371), "+0.0006");
        assert_eq!(change(-6.14e-3, 0.371), "-0.0061");
        assert_eq!(change(3.7e-3, 3.0), "+0.004");
        assert_eq!(change(1234.0, 20_923.0), "+1 234");
        // A tiny value in scientific notation: the change at its precision.
        assert_eq!(change(1.26e-7, 2.5e-4), "+1e-7");
        // No reference: the change as a parameter.
        assert_eq!(change(0.5, 0.0), "+0.5000");
    }

    #[test]
    fn scores_keep_the_decimals_of_their_change() {
        assert_eq!(score(-1_716.479_23, None), "-1716.479");
        assert_eq!(score(-1_716.479_23, Some(7.029e-3)), "-1716.4792");
        assert_eq!(score(-1_716.479_234_5, Some(1.2e-6)), "-1716.4792345");
        assert_eq!(score(-1_716.479_23, Some(25.0)), "-1716.479");
        assert_eq!(score_decimals(Some(1e-30)), MAX_SCORE_DECIMALS);
        assert_eq!(score_decimals(Some(0.0)), 3);
    }

    #[test]
    fn fixed_values_drop_a_negative_zero() {
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(-0.27, 2), "-0.27");
        assert_eq!(fixed(f64::INFINITY, 2), "inf");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(8.4, 4), 2.0);
        assert_eq!(nice_step(0.04, 4), 0.01);
        assert_eq!(ticks(-2.691, 5.724, 4), vec![-2.0, 0.0, 2.0, 4.0]);
        let small = ticks(-0.021, 0.019, 4);
        assert_eq!(small, vec![-0.02, -0.01, 0.0, 0.01]);
        let labels: Vec<String> = small.iter().map(|&v| tick(v, 0.01)).collect();
        assert_eq!(labels, ["-0.02", "-0.01", "0", "0.01"]);
        assert_eq!(tick(20_000.0, 5000.0), "20000");
        assert_eq!(tick(3e-7, 1e-7), "3e-7");
        assert_eq!(nice_bounds(-1716.9, -1716.1, 2), (-1717.0, -1716.0, 0.5));
        assert!(ticks(f64::NAN, 1.0, 4).is_empty());
    }
}
