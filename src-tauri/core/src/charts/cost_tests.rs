use super::*;

fn days(n: usize) -> Vec<String> {
    (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
}

fn series(label: &str, values: Vec<f64>, estimate: bool) -> CostSeries {
    CostSeries {
        label: label.into(),
        values,
        estimate,
    }
}

fn input(series: Vec<CostSeries>, n: usize) -> CostChartInput {
    CostChartInput {
        days: days(n),
        series,
        currency: "USD".into(),
        forecast: Vec::new(),
    }
}

#[test]
fn bars_stack_the_series_and_credits_go_below_zero() {
    let i = input(
        vec![
            series("aws", vec![10.0, 20.0, 30.0], false),
            series("gcp", vec![5.0, 5.0, 5.0], true),
            series("credits", vec![0.0, -8.0, 0.0], false),
        ],
        3,
    );
    let chart = cost_chart(&i, &CostChartOptions::default()).unwrap();
    let l = &chart.layout;
    let totals: Vec<f64> = l.bars.iter().map(|b| b.total).collect();
    assert_eq!(totals, vec![15.0, 17.0, 35.0]);
    assert_eq!(l.bars[1].amounts, vec![20.0, 5.0, -8.0]);
    assert!(l.y_max >= 35.0 && l.y_min <= -8.0 && l.y_min < 0.0, "{l:?}");
    // Bars tile left to right without overlapping, inside the plot.
    for w in l.bars.windows(2) {
        assert!(w[0].x1 <= w[1].x0, "{:?}", l.bars);
    }
    assert!(l.bars.last().unwrap().x1 <= l.plot.x + l.plot.width);
    // Estimates are named, not only lighter.
    assert!(
        chart.svg.contains("gcp (estimate)"),
        "legend names the estimate"
    );
    assert!(!chart.svg.contains("aws (estimate)"));
    assert!(l.legend[1].estimate && !l.legend[0].estimate);
    assert_ne!(l.legend[0].color, l.legend[1].color);
    assert!(chart.svg.contains("11-02"), "day labels");
}

#[test]
fn forecast_days_follow_the_actual_days_with_their_interval() {
    let mut i = input(vec![series("aws", vec![10.0, 12.0], false)], 2);
    i.forecast = vec![
        ForecastDay {
            day: "2026-11-03".into(),
            low: 9.0,
            mid: 11.0,
            high: 40.0,
        },
        ForecastDay {
            day: "2026-11-04".into(),
            low: 9.5,
            mid: 11.5,
            high: 14.0,
        },
    ];
    let l = cost_chart(&i, &CostChartOptions::default()).unwrap().layout;
    assert_eq!(l.bars.len(), 4);
    assert!(!l.bars[1].forecast && l.bars[2].forecast);
    assert_eq!(
        (l.bars[2].low, l.bars[2].total, l.bars[2].high),
        (Some(9.0), 11.0, Some(40.0))
    );
    assert!(l.y_max >= 40.0, "the interval fits: {}", l.y_max);
}

#[test]
fn series_past_the_palette_fold_into_others_and_keep_the_total() {
    let many: Vec<CostSeries> = (0..12)
        .map(|k| series(&format!("c{k}"), vec![1.0 + k as f64], false))
        .collect();
    let l = cost_chart(&input(many, 1), &CostChartOptions::default())
        .unwrap()
        .layout;
    assert_eq!(l.legend.len(), MAX_SERIES);
    assert_eq!(l.legend.last().unwrap().label, "5 others");
    // 1 + 2 + … + 12
    assert_eq!(l.bars[0].total, 78.0);
}

#[test]
fn bad_input_is_an_error_not_a_blank_chart() {
    let empty = CostChartInput {
        days: Vec::new(),
        series: Vec::new(),
        currency: "USD".into(),
        forecast: Vec::new(),
    };
    assert!(matches!(
        cost_chart(&empty, &CostChartOptions::default()),
        Err(ChartError::NoData(_))
    ));
    let short = input(vec![series("aws", vec![1.0], false)], 2);
    assert!(matches!(
        cost_chart(&short, &CostChartOptions::default()),
        Err(ChartError::BadInput(_))
    ));
    // NaN draws as nothing and does not poison the scale.
    let nan = input(vec![series("aws", vec![f64::NAN, 3.0], false)], 2);
    let l = cost_chart(&nan, &CostChartOptions::default())
        .unwrap()
        .layout;
    assert_eq!(l.bars[0].total, 0.0);
    assert!(l.y_max.is_finite());
}

#[test]
fn the_png_is_drawn_from_the_same_model() {
    let i = input(vec![series("aws", vec![10.0, 12.0], true)], 2);
    let png = cost_chart_png(&i, &CostChartOptions::default()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn money_is_short_and_keeps_its_currency() {
    assert_eq!(format_money(0.0, "USD"), "$0");
    assert_eq!(format_money(12.5, "USD"), "$12.50");
    assert_eq!(format_money(1234.0, "EUR"), "€1234");
    assert_eq!(format_money(25_300.0, "USD"), "$25.3k");
    assert_eq!(format_money(-8.0, "USD"), "-$8");
    assert_eq!(format_money(40.0, "CAD"), "-CAD 40".trim_start_matches('-'));
}
