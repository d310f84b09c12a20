//! `mixplore simulate`: stream points drawn from a spec to a CSV file or standard output,
//! one point at a time, so n is limited by disk rather than memory.

use std::io::Write;
use std::path::Path;

use super::args::SimulateArgs;
use crate::data::simulate::Sampler;
use crate::data::spec;
use crate::output::{check_distinct, write_output};

/// `mixplore simulate --spec SPEC …`.
pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    check_distinct(
        &[("--spec", &args.spec)],
        &[("--out", Path::new(&args.out))],
    )?;
    let spec = spec::load(&args.spec)?;
    let n = args.n.map_or(spec.n as u64, |n| n);
    let seed = args.seed.unwrap_or(spec.seed);
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        let mixture = &spec.mixture;
        let d = mixture.dim();
        let mut header: Vec<String> = (1..=d).map(|j| format!("x{j}")).collect();
        if !args.no_labels {
            header.push("component".into());
        }
        writeln!(out, "{}", header.join(","))?;
        let mut sampler = Sampler::new(mixture, seed);
        let mut point = vec![0.0; d];
        for _ in 0..n {
            let component = sampler.next_into(&mut point);
            for (j, value) in point.iter().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                write!(out, "{value}")?;
            }
            if args.no_labels {
                writeln!(out)?;
            } else {
                writeln!(out, ",{}", component + 1)?;
            }
        }
        out.flush()
    };
    write_output(Path::new(&args.out), write)?;
    Ok(())
}
