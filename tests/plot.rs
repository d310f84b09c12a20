//! `mixplore plot`: the SVG parses as XML and shows, for every component, one 1σ and one 2σ
//! ellipse path in its colour, the points, the axis names and the log-likelihood trace.

mod common;

use common::{mixplore, root, succeeds};
use mixplore::figure::component_colour;

/// The colour of component `k` as plotters writes it in the SVG.
fn hex(k: usize) -> String {
    let colour = component_colour(k);
    format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
}

fn plot(file: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figure.svg");
    let printed = succeeds(
        mixplore()
            .arg("plot")
            .arg(root().join(file))
            .args(args)
            .arg("--out")
            .arg(&out),
    );
    assert!(printed.is_empty(), "{printed}");
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn the_svg_has_one_ellipse_path_per_component_and_sigma() {
    for (file, k, rows) in [
        ("assets/datasets/faithful.csv", 2, 272),
        ("assets/datasets/iris.csv", 3, 150),
    ] {
        let svg = plot(file, &["--k", &k.to_string(), "--seed", "1"]);
        let document = roxmltree::Document::parse(&svg).unwrap();
        let root_element = document.root_element();
        assert_eq!(root_element.tag_name().name(), "svg");
        let polylines: Vec<_> = document
            .descendants()
            .filter(|node| node.has_tag_name("polyline"))
            .collect();
        for component in 0..k {
            for width in ["2", "1"] {
                let count = polylines
                    .iter()
                    .filter(|node| {
                        node.attribute("stroke") == Some(hex(component).as_str())
                            && node.attribute("stroke-width") == Some(width)
                    })
                    .count();
                assert_eq!(count, 1, "{file}: component {component}, width {width}");
            }
        }
        // Every row is a point; the trace is one black line.
        let circles = document
            .descendants()
            .filter(|node| node.has_tag_name("circle"))
            .count();
        assert_eq!(circles, rows, "{file}");
        let black = polylines
            .iter()
            .filter(|node| node.attribute("stroke") == Some("#000000"))
            .count();
        assert!(black >= 1, "{file}: no trace");
        let texts: Vec<&str> = document
            .descendants()
            .filter(|node| node.has_tag_name("text"))
            .filter_map(|node| node.text().map(str::trim))
            .collect();
        for label in ["iteration", "log-likelihood"] {
            assert!(
                texts.contains(&label),
                "{file}: {label} missing from {texts:?}"
            );
        }
    }
}

#[test]
fn axes_are_chosen_by_name_and_one_dimension_draws_densities() {
    let svg = plot(
        "assets/datasets/iris.csv",
        &["--k", "2", "--x", "petal_length", "--y", "4"],
    );
    let document = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = document
        .descendants()
        .filter_map(|node| node.text().map(str::trim))
        .collect();
    assert!(texts.contains(&"petal_length") && texts.contains(&"petal_width"));

    let galaxies = plot("assets/datasets/galaxies.csv", &["--k", "3"]);
    let document = roxmltree::Document::parse(&galaxies).unwrap();
    assert!(
        document
            .descendants()
            .any(|node| node.text().map(str::trim) == Some("weighted density"))
    );

    let output = mixplore()
        .arg("plot")
        .arg(root().join("assets/datasets/iris.csv"))
        .args([
            "--k",
            "2",
            "--x",
            "height",
            "--out",
            "/tmp/never-written.svg",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(
        message.contains("--x \"height\": not one of the fitted columns"),
        "{message}"
    );
    assert!(!std::path::Path::new("/tmp/never-written.svg").exists());
}
