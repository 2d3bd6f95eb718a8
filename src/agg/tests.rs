//! Tests of the aggregates through `Acc`: semantics per function, and merging in any split.

use super::sketch::ALPHA;
use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::borrow::Cow;

fn num(text: &str) -> Val<'static> {
    Val::number_text(Cow::Owned(text.to_string()))
}

fn run(f: AggFn, vals: &[Val]) -> Value {
    let mut acc = Acc::new(&f);
    for v in vals {
        acc.add(v);
    }
    acc.result()
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64()
        .is_some_and(|g| (g - want).abs() <= 1e-12 * want.abs().max(1.0))
}

#[test]
fn count_counts_every_call_and_count_expr_neither_null_nor_false() {
    let vals = [
        Val::Null,
        Val::Int(1),
        Val::str(""),
        Val::Null,
        Val::Bool(false),
        Val::Bool(true),
        Val::Int(0),
    ];
    assert_eq!(run(AggFn::Count, &vals), json!(7));
    assert_eq!(run(AggFn::CountWhere, &vals), json!(4));
    assert_eq!(run(AggFn::Count, &[]), json!(0));
}

#[test]
fn sum_past_u64_max_prints_the_exact_integer() {
    let r = run(AggFn::Sum, &[num("18446744073709551615"), Val::Int(1)]);
    assert_eq!(r.to_string(), "18446744073709551616");
    let r = run(
        AggFn::Sum,
        &[Val::Int(i64::MAX), Val::Int(i64::MAX), Val::Int(i64::MIN)],
    );
    assert_eq!(r.to_string(), "9223372036854775806");
    let r = run(AggFn::Sum, &[Val::Int(i64::MAX), Val::Int(2)]);
    assert_eq!(r.to_string(), "9223372036854775809");
}

#[test]
fn sum_ignores_non_numbers_and_is_null_without_numbers() {
    assert_eq!(
        run(AggFn::Sum, &[Val::str("12"), Val::Int(3), Val::Null, Val::Bool(true)]),
        json!(3)
    );
    assert_eq!(run(AggFn::Sum, &[Val::str("12"), Val::Null]), Value::Null);
    assert_eq!(run(AggFn::Avg, &[Val::str("12")]), Value::Null);
}

#[test]
fn sum_with_a_float_is_a_float() {
    assert_eq!(run(AggFn::Sum, &[Val::Int(1), num("0.5")]).to_string(), "1.5");
    assert_eq!(
        run(AggFn::Sum, &[num("0.1"), num("0.2")]).to_string(),
        "0.30000000000000004"
    );
    assert_eq!(run(AggFn::Sum, &[num("1.5"), num("1.5")]).to_string(), "3");
}

#[test]
fn avg_of_1e9_plus_small_values_is_stable() {
    let vals: Vec<Val> = (0..10_000)
        .map(|i| Val::Float(1e9 + [0.1, 0.2, 0.3, 0.4][i % 4]))
        .collect();
    let avg = run(AggFn::Avg, &vals).as_f64().expect("a number");
    assert!((avg - 1_000_000_000.25).abs() < 1e-6, "{avg}");
    assert_eq!(run(AggFn::Avg, &[Val::Int(1), Val::Int(2)]), json!(1.5));
}

#[test]
fn var_and_stddev_are_sample_statistics_and_null_below_two_values() {
    let vals = [
        Val::Int(2),
        Val::Int(4),
        Val::Int(4),
        Val::Int(4),
        Val::Int(5),
        Val::Int(5),
        Val::Int(7),
        Val::Int(9),
    ];
    assert!(close(&run(AggFn::Var, &vals), 32.0 / 7.0));
    assert!(close(&run(AggFn::Stddev, &vals), (32.0f64 / 7.0).sqrt()));
    assert_eq!(run(AggFn::Var, &[Val::Int(3), Val::str("x")]), Value::Null);
    assert_eq!(run(AggFn::Stddev, &[]), Value::Null);
    let shifted: Vec<Val> = [4.0, 7.0, 13.0, 16.0].iter().map(|x| Val::Float(1e9 + x)).collect();
    let var = run(AggFn::Var, &shifted);
    assert!(var.as_f64().is_some_and(|v| (v - 30.0).abs() < 1e-6), "{var}");
}

#[test]
fn min_and_max_keep_the_number_text() {
    let vals = [num("1.50"), num("1e2"), Val::Int(7), num("-0.0"), Val::Null];
    assert_eq!(run(AggFn::Min, &vals).to_string(), "-0.0");
    assert_eq!(run(AggFn::Max, &vals).to_string(), "1e2");
    assert_eq!(
        run(AggFn::Max, &[num("18446744073709551615"), Val::Int(1)]).to_string(),
        "18446744073709551615"
    );
    assert_eq!(
        run(AggFn::Min, &[num("1.0"), Val::Int(1)]).to_string(),
        "1.0",
        "ties keep the first"
    );
}

#[test]
fn min_and_max_prefer_numbers_then_use_the_total_order() {
    let vals = [
        Val::str("b"),
        Val::Int(10),
        Val::Bool(true),
        Val::Int(3),
        Val::str("a"),
        Val::Null,
    ];
    assert_eq!(run(AggFn::Min, &vals), json!(3));
    assert_eq!(run(AggFn::Max, &vals), json!(10));
    let no_numbers = [Val::str("b"), Val::Bool(true), Val::str("a")];
    assert_eq!(run(AggFn::Min, &no_numbers), json!(true));
    assert_eq!(run(AggFn::Max, &no_numbers), json!("b"));
    assert_eq!(run(AggFn::Min, &[Val::Null]), Value::Null);
}

#[test]
fn first_and_last_skip_nulls_and_follow_merge_order() {
    let mut a = Acc::new(&AggFn::First);
    let mut b = Acc::new(&AggFn::First);
    a.add(&Val::Null);
    b.add(&Val::str("x"));
    b.add(&Val::str("y"));
    a.merge(b);
    assert_eq!(a.result(), json!("x"));
    let mut a = Acc::new(&AggFn::Last);
    let mut b = Acc::new(&AggFn::Last);
    a.add(&Val::str("x"));
    b.add(&Val::Null);
    a.merge(b.clone());
    assert_eq!(a.result(), json!("x"));
    b.add(&Val::Int(3));
    a.merge(b);
    assert_eq!(a.result(), json!(3));
}

#[test]
fn distinct_counts_and_values_lists_distinct_non_null_values() {
    let vals = [
        Val::str("a"),
        Val::Int(1),
        Val::str("1"),
        Val::str("a"),
        Val::Null,
        num("1.0"),
    ];
    assert_eq!(run(AggFn::Distinct, &vals), json!(3), "1.0 is the number 1");
    assert_eq!(run(AggFn::Values, &vals).to_string(), r#"["a",1,"1"]"#);
    assert_eq!(run(AggFn::Values, &[]), json!([]));
    assert_eq!(run(AggFn::Distinct, &[]), json!(0));
}

#[test]
fn percentiles_ignore_non_numbers_and_print_integers_for_integral_data() {
    let vals: Vec<Val> = (1..=100).map(Val::Int).chain([Val::str("5000"), Val::Null]).collect();
    assert_eq!(run(AggFn::Percentile(0.5), &vals), json!(50));
    assert_eq!(run(AggFn::Percentile(0.99), &vals), json!(99));
    assert_eq!(run(AggFn::Percentile(0.0), &vals), json!(1));
    assert_eq!(run(AggFn::Percentile(1.0), &vals), json!(100));
    assert_eq!(run(AggFn::Percentile(0.5), &[Val::str("1")]), Value::Null);
    let r = run(AggFn::Percentile(0.5), &[num("0.25"), num("0.5"), num("1.5")])
        .as_f64()
        .expect("a number");
    assert!((r - 0.5).abs() <= 0.5 * ALPHA, "{r}");
}

#[test]
fn every_name_parses_and_named_functions_name_themselves() {
    for name in crate::lang::ast::AGG_NAMES {
        let f = AggFn::from_name(name).unwrap_or_else(|| panic!("{name}"));
        if !["median", "percentile"].contains(name) {
            assert_eq!(f.name(), *name);
        }
    }
    assert_eq!(AggFn::from_name("median"), Some(AggFn::Percentile(0.5)));
    assert_eq!(AggFn::from_name("p999"), Some(AggFn::Percentile(0.999)));
    assert_eq!(AggFn::from_name("mean"), None);
    assert_eq!(AggFn::Percentile(0.42).name(), "percentile");
    assert_eq!(AggFn::CountWhere.name(), "count");
}

#[test]
fn from_call_checks_arguments() {
    assert_eq!(AggFn::from_call("count", false, None), Some(AggFn::Count));
    assert_eq!(AggFn::from_call("count", true, None), Some(AggFn::CountWhere));
    assert_eq!(
        AggFn::from_call("percentile", true, Some(0.95)),
        Some(AggFn::Percentile(0.95))
    );
    assert_eq!(AggFn::from_call("percentile", true, Some(95.0)), None);
    assert_eq!(AggFn::from_call("percentile", true, None), None);
    assert_eq!(AggFn::from_call("sum", false, None), None);
    assert_eq!(AggFn::from_call("sum", true, Some(0.5)), None);
    assert_eq!(AggFn::from_call("p99", true, None), Some(AggFn::Percentile(0.99)));
}

#[test]
#[should_panic(expected = "cannot merge `avg` into `sum`")]
fn merging_different_aggregates_is_a_bug() {
    Acc::new(&AggFn::Sum).merge(Acc::new(&AggFn::Avg));
}

#[test]
fn accumulators_are_send() {
    fn send<T: Send + Clone + std::fmt::Debug>() {}
    send::<Acc>();
}

const ALL: [AggFn; 17] = [
    AggFn::Count,
    AggFn::CountWhere,
    AggFn::Sum,
    AggFn::Avg,
    AggFn::Min,
    AggFn::Max,
    AggFn::First,
    AggFn::Last,
    AggFn::Stddev,
    AggFn::Var,
    AggFn::Distinct,
    AggFn::Values,
    AggFn::Percentile(0.0),
    AggFn::Percentile(0.5),
    AggFn::Percentile(0.9),
    AggFn::Percentile(0.999),
    AggFn::Percentile(1.0),
];

fn any_val() -> impl Strategy<Value = Val<'static>> {
    prop_oneof![
        Just(Val::Null),
        any::<bool>().prop_map(Val::Bool),
        any::<i64>().prop_map(Val::Int),
        (-1000i64..1000).prop_map(Val::Int),
        (-1e6..1e6f64).prop_map(Val::Float),
        (i64::MAX as u64..=u64::MAX).prop_map(|u| num(&u.to_string())),
        (-999i32..999, 0u8..3).prop_map(|(i, d)| num(&format!("{}.{}", i, "5".repeat(usize::from(d) + 1)))),
        "[a-c]{0,2}".prop_map(Val::string),
        (0i64..3).prop_map(|i| Val::Json(Cow::Owned(json!([i])))),
    ]
}

/// Accumulates `vals` by splitting it recursively at the fractions `cuts` and merging the halves
/// left to right, as threads and chunks would.
fn split_acc(f: AggFn, vals: &[Val], cuts: &[f64]) -> Acc {
    match cuts.split_first() {
        Some((&c, rest)) if vals.len() > 1 => {
            let at = ((vals.len() as f64) * c) as usize;
            let (l, r) = vals.split_at(at.min(vals.len()));
            let (lc, rc) = rest.split_at(rest.len() / 2);
            let mut acc = split_acc(f, l, lc);
            acc.merge(split_acc(f, r, rc));
            acc
        }
        _ => {
            let mut acc = Acc::new(&f);
            for v in vals {
                acc.add(v);
            }
            acc
        }
    }
}

/// Same value, up to float rounding in the results that are computed in floating point.
fn same(f: AggFn, a: &Value, b: &Value) -> bool {
    match (f, a.as_f64(), b.as_f64()) {
        _ if a == b => true,
        // Integer sums must be exact: `integer_sums_are_exact_in_any_split` checks the text.
        (AggFn::Avg | AggFn::Var | AggFn::Stddev | AggFn::Sum, Some(x), Some(y)) => {
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn merging_any_split_equals_one_accumulator(
        vals in prop::collection::vec(any_val(), 0..120),
        cuts in prop::collection::vec(0.0..1.0f64, 0..8),
    ) {
        for f in ALL {
            let one = run(f, &vals);
            let merged = split_acc(f, &vals, &cuts).result();
            prop_assert!(same(f, &one, &merged), "{:?}: {} vs {}", f, one, merged);
        }
    }

    #[test]
    fn integer_sums_are_exact_in_any_split(
        vals in prop::collection::vec(prop_oneof![any::<i64>(), (i64::MAX - 10)..=i64::MAX], 0..60),
        cuts in prop::collection::vec(0.0..1.0f64, 0..6),
    ) {
        let exact: i128 = vals.iter().map(|&i| i128::from(i)).sum();
        let vals: Vec<Val> = vals.into_iter().map(Val::Int).collect();
        let got = split_acc(AggFn::Sum, &vals, &cuts).result();
        let want = if vals.is_empty() { "null".to_string() } else { exact.to_string() };
        prop_assert_eq!(got.to_string(), want);
    }
}
