//! The derivation panel (`d`): one EM iteration as the lecture notes derive it, with the numbers
//! of the shown iteration. The E-step at θ(t) (responsibilities of a few points, N_k), the M-step
//! to θ(t+1) (λ_k = N_k / n, the weighted means and covariances), and why the log-likelihood
//! rises: log L(θ(t)) = Q(θ(t)|θ(t)) + H(t) and log L(θ(t+1)) ≥ Q(θ(t+1)|θ(t)) + H(t) ≥ log L(θ(t)).
//! Everything comes prepared in the view model (the worker computed Q, H and N_k in its pass).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{Theme, compact, format};
use crate::em::Mixture;
use crate::explorer::app::{App, DerivationView};

/// Draws the panel into `area`, from line `scroll`.
pub fn render(frame: &mut Frame, area: Rect, app: &App, scroll: u16, theme: &Theme) {
    let view = app.view();
    let Some(derivation) = &view.derivation else {
        let text = match view.coloured_by {
            None => "θ(0) before its first E-step: n runs it, and the derivation starts there",
            Some(_) => "re-deriving this iteration…",
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Derivation · d or Esc closes ")),
            area,
        );
        return;
    };
    let lines: Vec<Line> = lines(derivation, app, theme)
        .into_iter()
        .map(|line| spelled(line, theme))
        .collect();
    let inner_height = area.height.saturating_sub(2);
    let inner_width = area.width.saturating_sub(2).max(1);
    let total: u16 = lines
        .iter()
        .map(|l| (l.width() as u16).div_ceil(inner_width).max(1))
        .sum();
    let scroll = scroll.min(total.saturating_sub(inner_height));
    let t = derivation.t;
    let full = format!(
        " Derivation: E-step at θ({t}), M-step to θ({}) · d closes ",
        t + 1
    );
    // How to close it stays when the panel is narrow.
    let title = if full.chars().count() + 2 <= usize::from(area.width) {
        full
    } else {
        format!(" Derivation θ({t}) → θ({}) · d closes ", t + 1)
    };
    let mut block = Block::bordered().title(title);
    if total > inner_height {
        block = block.title_bottom(format!(
            " ↑↓ scroll · {}–{} of {total} ",
            scroll + 1,
            (scroll + inner_height).min(total)
        ));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        area,
    );
}

/// The line with each span's text spelled for the terminal ([`Theme::spell`]).
fn spelled(line: Line<'static>, theme: &Theme) -> Line<'static> {
    let spans: Vec<Span<'static>> = line
        .spans
        .into_iter()
        .map(|span| Span::styled(theme.spell(&span.content), span.style))
        .collect();
    Line::from(spans).style(line.style)
}

/// A number with four decimals, or ? when not known yet.
fn value(number: Option<f64>) -> String {
    number.map_or_else(|| "?".to_owned(), |v| format::fixed(v, 4))
}

/// The mean on the plotted dimensions.
fn mean_text(mixture: &Mixture, k: usize, dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(|&j| compact(mixture.mean(k)[j])).collect();
    format!("({})", parts.join(", "))
}

/// σ of each plotted dimension and their correlation.
fn covariance_text(mixture: &Mixture, k: usize, dims: &[usize]) -> String {
    let d = mixture.dim();
    let cov = mixture.covariance(k);
    match dims {
        [a, b] => {
            let (sa, sb) = (cov[a * d + a].sqrt(), cov[b * d + b].sqrt());
            format!(
                "σ {}, {} ρ {}",
                compact(sa),
                compact(sb),
                format::fixed(cov[a * d + b] / (sa * sb), 3)
            )
        }
        _ => format!("σ {}", compact(cov[0].sqrt())),
    }
}

fn lines(derivation: &DerivationView, app: &App, theme: &Theme) -> Vec<Line<'static>> {
    let t = derivation.t;
    let current = &derivation.current;
    let k = current.k();
    let d = current.dim();
    let plotted = app.display().dims;
    let dims: Vec<usize> = if d == 1 {
        vec![0]
    } else {
        vec![plotted.0, plotted.1]
    };
    let head = |text: &str| Line::from(Span::styled(text.to_owned(), Modifier::BOLD));
    let dim = |text: String| Line::from(Span::styled(text, theme.dim()));
    let tag = |c: usize| Span::styled(theme.tag(c, app.slot(c)), theme.component(app.slot(c)));
    let mut lines = Vec::new();

    let hard = app.run().spec.config.hard;
    if hard {
        lines.push(Line::from(Span::styled(
            "hard EM: r_ik is 1 for the most likely k, else 0; Q is the classification log-likelihood and H = 0, so log L can fall (H: soft)".to_owned(),
            theme.warning(),
        )));
    }
    lines.push(head(&format!("E-step at θ({t})")));
    lines.push(dim("r_ik = λ_k φ_k(x_i) / Σ_j λ_j φ_j(x_i)".into()));
    for (row, responsibilities) in &derivation.points {
        let values: Vec<String> = responsibilities
            .iter()
            .map(|&r| format::fixed(r, 3))
            .collect();
        let text = if hard {
            // Hard EM gives the whole point to the largest share (ties to the lower index).
            let top = responsibilities
                .iter()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |b, (k, &r)| if r > b.1 { (k, r) } else { b },
                )
                .0;
            let ones: Vec<&str> = (0..responsibilities.len())
                .map(|k| if k == top { "1" } else { "0" })
                .collect();
            format!(
                " row {}: r = {} (soft: {})",
                row + 1,
                ones.join("  "),
                values.join("  ")
            )
        } else {
            format!(" row {}: r = {}", row + 1, values.join("  "))
        };
        lines.push(Line::from(text));
    }
    lines.push(dim(match derivation.total_weight {
        None => "N_k = Σ_i r_ik (the expected number of points of k)".into(),
        Some(_) => "N_k = Σ_i w_i r_ik (the expected weight of k)".into(),
    }));
    // With sample weights the masses sum to Σ w, which stands where n does.
    let total = derivation
        .total_weight
        .map_or_else(|| derivation.n.to_string(), |w| format::fixed(w, 2));
    match &derivation.totals {
        Some(totals) => {
            let mut spans = vec![Span::raw(" ")];
            for (c, total) in totals.iter().enumerate() {
                spans.push(tag(c));
                spans.push(Span::raw(format!(" N {}  ", format::fixed(*total, 2))));
            }
            let sum = match derivation.total_weight {
                None => format!("(Σ = n = {total})"),
                Some(_) => format!("(Σ = Σw = {total})"),
            };
            spans.push(Span::styled(sum, theme.dim()));
            lines.push(Line::from(spans));
        }
        None => lines.push(Line::from(" N_k: not known for this iteration")),
    }

    lines.push(head(&format!(
        "M-step to θ({}): maximise Q(θ | θ({t}))",
        t + 1
    )));
    lines.push(dim(match derivation.total_weight {
        None => "∂Q/∂λ = 0: λ_k = N_k / n".into(),
        Some(_) => "∂Q/∂λ = 0: λ_k = N_k / Σ_i w_i".into(),
    }));
    let n = derivation.total_weight.unwrap_or(derivation.n as f64);
    for c in 0..k {
        let from_totals = derivation
            .totals
            .as_ref()
            .and_then(|t| t.get(c))
            .map(|&nk| nk / n);
        let shown = derivation.next.as_ref().map(|m| m.weights()[c]);
        let nk = derivation.totals.as_ref().and_then(|t| t.get(c)).copied();
        lines.push(Line::from(vec![
            Span::raw(" "),
            tag(c),
            Span::raw(format!(
                " λ = {} / {} = {}{}",
                nk.map_or_else(|| "?".into(), |nk| format::fixed(nk, 2)),
                total,
                value(from_totals),
                match shown {
                    Some(shown) => format!("  (θ({}) has λ {})", t + 1, format::fixed(shown, 4)),
                    None => String::new(),
                }
            )),
        ]));
    }
    // With sample weights every sum over the points is weighted: w_i r_ik stands for r_ik.
    let r = if derivation.total_weight.is_some() {
        "w_i r_ik"
    } else {
        "r_ik"
    };
    lines.push(dim(format!("∂Q/∂μ = 0: μ_k = Σ_i {r} x_i / N_k")));
    lines.push(dim(format!(
        "Σ_k = Σ_i {r} (x_i − μ_k)(x_i − μ_k)ᵀ / N_k + reg_covar·I"
    )));
    match &derivation.next {
        Some(next) => {
            for c in 0..k {
                lines.push(Line::from(vec![
                    Span::raw(" "),
                    tag(c),
                    Span::raw(format!(
                        " μ {}  {}",
                        mean_text(next, c, &dims),
                        covariance_text(next, c, &dims)
                    )),
                ]));
            }
        }
        None => lines.push(Line::from(format!(
            " θ({}) is not known yet: n makes it (and its log L)",
            t + 1
        ))),
    }
    if derivation.next.is_some() && derivation.next_beyond {
        lines.push(dim(if derivation.stopped {
            format!(" (the run stopped at θ({t}): the M-step it would take next)")
        } else {
            format!(" (from these sums; no pass at θ({}) yet: n runs it)", t + 1)
        }));
    }

    lines.push(head("Why log L rises"));
    lines.push(dim(format!(
        "Q(θ|θ(t)) = Σ_i Σ_k {r} [log λ_k + log φ_k(x_i)], H(t) = −Σ_i Σ_k {r} log r_ik"
    )));
    let (l, q, h) = (derivation.log_likelihood, derivation.q, derivation.entropy);
    lines.push(Line::from(format!(
        " log L(θ({t})) = Q(θ({t})|θ({t})) + H({t}):  {} = {} + {}",
        format::fixed(l, 4),
        value(q),
        value(h)
    )));
    let bound = derivation.q_next.zip(h).map(|(q, h)| q + h);
    lines.push(Line::from(format!(
        " log L(θ({})) ≥ Q(θ({})|θ({t})) + H({t}) ≥ log L(θ({t})):",
        t + 1,
        t + 1
    )));
    lines.push(Line::from(format!(
        "   {} ≥ {} ≥ {}",
        value(derivation.next_log_likelihood),
        value(bound),
        format::fixed(l, 4)
    )));
    if let (Some(next), Some(bound)) = (derivation.next_log_likelihood, bound) {
        lines.push(Line::from(format!(
            " the gap, a KL divergence ≥ 0: {:.4e};  the M-step's gain in Q: {:.4e}",
            next - bound,
            derivation.q_next.zip(q).map_or(f64::NAN, |(qn, q)| qn - q)
        )));
        if app.run().spec.config.reg_covar > 0.0 {
            lines.push(dim(
                "(reg_covar > 0 moves θ off Q's maximiser, so the chain can fail by a hair; c sets 0)"
                    .into(),
            ));
        }
    }
    lines
}
