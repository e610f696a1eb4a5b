use quick_xml::events::Event;
use quick_xml::Reader;

use super::*;
use crate::analysis::quantile::{synthetic_histogram, LatencyHeatmap};
use crate::metrics::{HistogramSteps, ResourceMatrix, ResourceRow};

/// Element counts of a well-formed SVG document (panics if it is not
/// well-formed XML), and the text of its `<text>` elements.
struct Svg {
    rects: usize,
    polylines: usize,
    texts: Vec<String>,
}

fn parse(svg: &str) -> Svg {
    let mut reader = Reader::from_str(svg);
    let mut out = Svg {
        rects: 0,
        polylines: 0,
        texts: Vec::new(),
    };
    let mut in_text = false;
    let mut depth = 0_i32;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                in_text = e.name().as_ref() == "text";
                if in_text {
                    out.texts.push(String::new());
                }
            }
            Ok(Event::End(_)) => {
                depth -= 1;
                in_text = false;
            }
            Ok(Event::Empty(e)) => match e.name().as_ref() {
                "rect" => out.rects += 1,
                "polyline" => out.polylines += 1,
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                let s: String = t.as_ref().trim().to_owned();
                if let Some(last) = out.texts.last_mut() {
                    last.push_str(&s);
                }
            }
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    out
}

fn two_buckets() -> HistogramSteps {
    HistogramSteps {
        times: vec![60, 120, 180, 240],
        le: vec![0.1, 1.0, f64::INFINITY],
        // Per bucket: (10, 0, 0), (10, 0, 0), (0, 5, 0), (0, 0, 0).
        counts: vec![
            vec![10.0, 10.0, 10.0],
            vec![10.0, 10.0, 10.0],
            vec![0.0, 5.0, 5.0],
            vec![0.0, 0.0, 0.0],
        ],
    }
}

#[test]
fn latency_svg_has_merged_cells_legend_lines_and_text() {
    let opts = LatencyChartOptions {
        title: Some("checkout latency".into()),
        ..Default::default()
    };
    let chart = latency_heatmap(&two_buckets(), &opts).unwrap();
    let svg = parse(&chart.svg);
    // Background + 2 cells (the two equal first-bucket cells merge into one
    // rect, the 0.1–1 s cell at t=180; zero counts draw nothing) + the
    // colour bar's levels.
    assert_eq!(svg.rects, 1 + 2 + layout::LEVELS, "{}", chart.svg);
    // p50/p95/p99: one piece each (the last step has no observations and
    // ends the line), plus 3 key samples; each drawn twice (dark halo, then
    // the colour).
    assert_eq!(svg.polylines - 1 - ticks(&svg), 2 * (3 + 3));
    assert!(svg.texts.iter().any(|t| t == "checkout latency"));
    for label in ["100 ms", "1 s", "+Inf", "p50", "p95", "p99", "count"] {
        assert!(
            svg.texts.iter().any(|t| t == label),
            "{label}: {:?}",
            svg.texts
        );
    }
    assert!(
        !chart.svg.contains("<path d="),
        "text is <text>, not glyph outlines"
    );
    assert!(chart.svg.contains("font-family=\"sans-serif\""));

    let layout = &chart.layout;
    assert_eq!(layout.columns.len(), 4);
    assert_eq!(layout.rows.len(), 3);
    assert_eq!(layout.rows[0].upper, Some(0.1));
    assert_eq!(layout.rows[0].lower, Some(0.0));
    assert_eq!(layout.rows[2].upper, None, "+Inf");
    assert!(
        layout.rows[0].y0 > layout.rows[2].y0,
        "the lowest bucket is at the bottom"
    );
    assert_eq!(layout.values[2], vec![Some(0.0), Some(5.0), Some(0.0)]);
    assert_eq!(layout.columns[0].start, 0);
    assert_eq!(layout.columns[3].end, 240);
    assert_eq!(layout.columns[0].x0, layout.plot.x);
    assert_eq!(layout.columns[3].x1, layout.plot.x + layout.plot.width);
    // The lines' values per column: t=60 has 10 in (0, 0.1] → p50 = 0.05;
    // t=180 has 5 in (0.1, 1] → p50 = 0.55; t=240 has none.
    assert_eq!(layout.lines.len(), 3);
    assert_eq!(layout.lines[0].name, "p50");
    let p50 = &layout.lines[0].values;
    assert!((p50[0].unwrap() - 0.05).abs() < 1e-12);
    assert!((p50[2].unwrap() - 0.55).abs() < 1e-12);
    assert_eq!(p50[3], None);
}

/// Axis ticks are 2-point polylines; the time axis line is one more.
fn ticks(svg: &Svg) -> usize {
    svg.texts
        .iter()
        .filter(|t| t.len() >= 5 && t.as_bytes()[2] == b':')
        .count()
}

#[test]
fn downsampling_caps_columns_at_the_pixel_budget() {
    let h = synthetic_histogram(1_700_000_000, 10_080, 60, 3);
    for min_cell_px in [1, 2, 4] {
        let opts = LatencyChartOptions {
            min_cell_px,
            ..Default::default()
        };
        let chart = latency_heatmap(&h, &opts).unwrap();
        let l = &chart.layout;
        let cols = l.columns.len() as u32;
        assert!(cols <= l.plot.width / min_cell_px, "{cols} columns");
        assert!(
            cols * 2 >= l.plot.width / min_cell_px,
            "not needlessly coarse"
        );
        assert!(f64::from(cols) / f64::from(l.plot.width) <= 2.0);
        let steps: u32 = l.columns.iter().map(|c| c.steps).sum();
        assert_eq!(steps, 10_080, "every step lands in one column");
        // Counts are summed, not dropped.
        let total: f64 = l.values.iter().flatten().flatten().sum();
        let want: f64 = h.counts.iter().map(|r| r[r.len() - 1]).sum();
        assert!((total - want).abs() < 1e-6, "{total} vs {want}");
        // Every column is at least min_cell_px wide.
        assert!(l.columns.iter().all(|c| c.x1 - c.x0 >= min_cell_px));
    }
}

#[test]
fn a_week_of_minutes_stays_small() {
    let h = synthetic_histogram(1_700_000_000, 7 * 1440, 60, 5);
    let chart = latency_heatmap(&h, &LatencyChartOptions::default()).unwrap();
    let svg = parse(&chart.svg);
    // 10,080 × 12 one-rect cells would be ~10 MiB.
    assert!(chart.svg.len() < 600 * 1024, "{} bytes", chart.svg.len());
    assert!(svg.rects < 6_000, "{} rects", svg.rects);
    let week = ["2023-11-15", "2023-11-20"];
    assert!(
        week.iter()
            .any(|d| svg.texts.iter().any(|t| t.starts_with(d))),
        "a 7-day axis shows dates: {:?}",
        svg.texts
    );
}

#[test]
fn png_is_a_png_of_the_requested_size() {
    let opts = LatencyChartOptions {
        width: 640,
        height: 300,
        title: Some("p".into()),
        ..Default::default()
    };
    let bytes = latency_heatmap_png(&synthetic_histogram(0, 500, 60, 1), &opts).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (640, 300));
    // Drawn, not blank: viridis purple and some text-dark pixels exist.
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    assert!(
        px.iter().any(|p| u16::from(p[2]) > u16::from(p[1]) + 30),
        "no cell colours"
    );
    assert!(px.iter().any(|p| p.iter().all(|c| *c < 90)), "no text");

    let m = matrix();
    let bytes = resource_heatmap_png(&m, &ResourceChartOptions::default()).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn empty_and_malformed_input_are_clear_errors() {
    let err = latency_heatmap(&HistogramSteps::default(), &Default::default()).unwrap_err();
    assert_eq!(err.kind(), "chart_no_data");
    assert!(!err.hint().is_empty());
    let mut bad = two_buckets();
    bad.counts[1].pop();
    let err = latency_heatmap(&bad, &Default::default()).unwrap_err();
    assert_eq!(err.kind(), "chart_bad_input");
    let err = latency_heatmap(
        &two_buckets(),
        &LatencyChartOptions {
            width: 10,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), "chart_bad_size");
    let err = resource_heatmap(&ResourceMatrix::default(), &Default::default()).unwrap_err();
    assert_eq!(err.kind(), "chart_no_data");
}

fn matrix() -> ResourceMatrix {
    let row = |c: &str, n: &str| ResourceRow {
        cluster_id: c.into(),
        node: n.into(),
    };
    ResourceMatrix {
        rows: vec![row("eks-a", "n1"), row("gke-b", "m1"), row("eks-a", "n2")],
        times: vec![60, 120, 180],
        values: vec![
            vec![Some(10.0), Some(10.0), Some(90.0)],
            vec![None, None, None],
            vec![Some(50.0), None, Some(100.0)],
        ],
    }
}

#[test]
fn resource_rows_are_grouped_by_cluster_and_gaps_stay_blank() {
    let chart = resource_heatmap(&matrix(), &ResourceChartOptions::default()).unwrap();
    let l = &chart.layout;
    let order: Vec<(&str, &str)> = l
        .rows
        .iter()
        .map(|r| (r.cluster_id.as_deref().unwrap(), r.node.as_deref().unwrap()))
        .collect();
    assert_eq!(
        order,
        vec![("eks-a", "n1"), ("eks-a", "n2"), ("gke-b", "m1")]
    );
    assert_eq!(l.values[1], vec![Some(10.0), None, None]);
    let svg = parse(&chart.svg);
    // n1: 10,10 merge + 90 = 2 rects; n2: 50, 100 = 2 (gap between);
    // m1: nothing. Plus background and legend.
    assert_eq!(svg.rects, 1 + 4 + layout::LEVELS);
    for label in ["eks-a", "gke-b", "n1", "m1", "0%", "100%"] {
        assert!(
            svg.texts.iter().any(|t| t == label),
            "{label}: {:?}",
            svg.texts
        );
    }
}

#[test]
fn resource_columns_average_present_values() {
    let mut m = matrix();
    m.times = (1..=2000).map(|t| t * 60).collect();
    m.values = vec![
        (0..2000)
            .map(|t| Some(if t % 2 == 0 { 20.0 } else { 40.0 }))
            .collect(),
        vec![None; 2000],
        (0..2000).map(|t| (t % 2 == 0).then_some(70.0)).collect(),
    ];
    let chart = resource_heatmap(&m, &Default::default()).unwrap();
    let l = &chart.layout;
    assert!(l.columns.len() < 2000);
    for col in &l.values {
        assert!((col[0].unwrap() - 30.0).abs() < 1e-9);
        assert_eq!(col[1], Some(70.0), "the mean of the present values only");
        assert_eq!(col[2], None);
    }
}

#[test]
fn labels_read_well() {
    assert_eq!(layout::format_seconds(0.005), "5 ms");
    assert_eq!(layout::format_seconds(0.25), "250 ms");
    assert_eq!(layout::format_seconds(2.5), "2.5 s");
    assert_eq!(layout::format_seconds(f64::INFINITY), "+Inf");
    assert_eq!(layout::format_count(7.0), "7");
    assert_eq!(layout::format_count(2.5), "2.5");
    assert_eq!(layout::format_count(1234.0), "1.2k");
    assert_eq!(
        layout::format_utc(1_700_000_000, true, false),
        "2023-11-14 22:13"
    );
    assert_eq!(layout::format_utc(0, false, true), "00:00:00");
    assert_eq!(layout::civil_from_days(19_782), (2024, 2, 29));
}

#[test]
fn the_layout_serialises_for_the_webview() {
    let chart = latency_heatmap(&two_buckets(), &Default::default()).unwrap();
    let json = serde_json::to_value(&chart.layout).unwrap();
    assert_eq!(json["rows"][2]["upper"], serde_json::Value::Null);
    assert_eq!(json["columns"][0]["end"], 60);
    let _unused: Option<LatencyHeatmap> = None;
}
