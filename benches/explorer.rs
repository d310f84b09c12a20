//! Explorer frame benchmarks (criterion): one whole frame of the explorer (`ui::draw` of every
//! panel, ratatui's buffer diff and the write into the backend) at 120×40, into ratatui's
//! `TestBackend`, for a simulated 2-D, K = 3 data set of n = 1 000 000, 20 000 and 10 000 points,
//! and for n = 20 000 at D = 100 with K = 5 and K = 12 (the worst case: a frame must stay
//! under 10 ms there, since panels only format what the view model prepared).
//!
//! Run: `cargo bench --bench explorer` (about a minute; see bench/README.md).
//!
//! The app is built as tests/render.rs builds it: `App::new` on a simulated source, the run it
//! asks for is made in this thread (k-means++ start, a few EM iterations), and each iteration's
//! snapshot is fed to the app. Every timed frame shows a different iteration than the frame before
//! (a key moves between the last two iterations outside the timed part, as a running fit changes
//! the screen), so the point colours, the ellipses and the parameter text all change and the diff
//! is not empty. Only the draw is timed: the view model is built once per change, not per frame.
//!
//! The data panel draws every point up to `MAX_DRAWN_POINTS` (20 000) and a fixed sample of that
//! many beyond, so the frame cost grows with n up to 20 000 and not after: n = 20 000 (all drawn)
//! is the reference for n = 1 000 000 (20 000 of them drawn); n = 10 000 draws half as many.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mixplore::data::spec::Spec;
use mixplore::em::{Em, Mixture, MixtureParams};
use mixplore::explorer::app::{App, Effect, Msg, Origin, RunSettings, Source as AppSource};
use mixplore::explorer::input::Key;
use mixplore::explorer::ui::{Theme, draw};
use mixplore::explorer::worker::{Command, Snapshot, WorkerEvent, start_run};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Terminal size of the benchmark.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// EM iterations fed to the app as snapshots (after the start, iteration 0).
const ITERATIONS: usize = 4;

/// The data sizes: 10 000 (every point drawn), 20 000 (every point drawn: the cap) and
/// 1 000 000 (a fixed sample of 20 000 drawn). The cost should follow the drawn count, not n:
/// 1 000 000 should cost about what 20 000 does.
const SIZES: &[usize] = &[10_000, 20_000, 1_000_000];

/// K components in D dimensions: means along the diagonal, unit covariances.
fn high_dimensional(k: usize, d: usize) -> Mixture {
    Mixture::from_params(&MixtureParams {
        weights: vec![1.0; k],
        means: (0..k).map(|c| vec![3.0 * c as f64; d]).collect(),
        covariances: (0..k)
            .map(|_| {
                (0..d)
                    .map(|r| (0..d).map(|c| if r == c { 1.0 } else { 0.0 }).collect())
                    .collect()
            })
            .collect(),
    })
    .expect("the benchmark mixture is valid")
}

/// Three 2-D components, separated with overlapping tails (as in benches/em.rs).
fn mixture() -> Mixture {
    let means = (0..3)
        .map(|c| {
            let angle = std::f64::consts::TAU * c as f64 / 3.0 + 0.3;
            vec![3.5 * angle.cos(), 3.5 * angle.sin()]
        })
        .collect();
    Mixture::from_params(&MixtureParams {
        weights: vec![1.0, 1.5, 2.0],
        means,
        covariances: vec![
            vec![vec![0.8, 0.4], vec![0.4, 1.0]],
            vec![vec![1.1, -0.3], vec![-0.3, 1.4]],
            vec![vec![1.4, 0.2], vec![0.2, 1.2]],
        ],
    })
    .expect("the benchmark mixture is valid")
}

/// An app on n points drawn from `mixture`, fitted with K components, with the snapshots of
/// iterations 0..=ITERATIONS.
fn app_with_snapshots(mixture: Mixture, n: usize, k: usize) -> App {
    let spec = Spec::from_mixture(mixture, n, 42);
    let source = AppSource::simulated(spec, format!("bench n={n}"), Origin::Edited);
    let (mut app, effects) = App::new(source, RunSettings::new(k));
    let request = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Worker(Command::Start(request)) => Some(request),
            _ => None,
        })
        .expect("App::new starts a run");
    let mut em = start_run(&request).expect("EM starts");
    let snapshot =
        |em: &Em| Snapshot::of(request.run_id, em, &request.drawn, request.truth.as_deref());
    app.update(Msg::Worker(WorkerEvent::Snapshot(snapshot(&em))));
    for _ in 0..ITERATIONS {
        em.step().expect("iteration succeeds");
        app.update(Msg::Worker(WorkerEvent::Snapshot(snapshot(&em))));
    }
    assert_eq!(app.timeline().len(), ITERATIONS + 1);
    app
}

fn bench_frames(c: &mut Criterion, name: &str, mut app: App) {
    let theme = Theme::dark();
    let mut group = c.benchmark_group("frame");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("a terminal");
    // One frame first, so every timed frame is drawn over a previous one, as in the app.
    terminal
        .draw(|f| draw(f, &app, &theme))
        .expect("draws into TestBackend");
    let mut back = false;
    group.bench_function(BenchmarkId::new(format!("{WIDTH}x{HEIGHT}"), name), |b| {
        b.iter_custom(|frames| {
            let mut spent = Duration::ZERO;
            for _ in 0..frames {
                back = !back;
                app.update(Msg::Key(if back { Key::Left } else { Key::Right }));
                let start = Instant::now();
                terminal
                    .draw(|f| draw(f, &app, &theme))
                    .expect("draws into TestBackend");
                black_box(terminal.backend().buffer().content().len());
                spent += start.elapsed();
            }
            spent
        })
    });
    group.finish();
}

fn frame(c: &mut Criterion) {
    for &n in SIZES {
        bench_frames(
            c,
            &format!("n{n}_D2_K3"),
            app_with_snapshots(mixture(), n, 3),
        );
    }
    for k in [5, 12] {
        bench_frames(
            c,
            &format!("n20000_D100_K{k}"),
            app_with_snapshots(high_dimensional(k, 100), 20_000, k),
        );
    }
}

criterion_group!(benches, frame);
criterion_main!(benches);
