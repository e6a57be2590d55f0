//! ReportDiff: members report their diff and apply nothing; a failing member under the default
//! apply strategy is healed by the script.

mod sim_support;

use staged_rollout::api::well_known::condition_types as ct;
use staged_rollout::sim::Simulation;

const SCENARIO: &str = include_str!("../examples/scenarios/report-diff.yaml");

#[test]
fn report_diff_then_apply() {
    let sim = sim_support::run(&sim_support::scenario(SCENARIO));
    insta::assert_yaml_snapshot!(sim_support::readable(&sim.transcript()));
}

#[test]
fn under_report_diff_members_hold_nothing_and_report_diff_reported() {
    let mut sim = Simulation::from_scenario(&sim_support::scenario(SCENARIO)).unwrap();
    sim.run_until("2025-03-12T10:04:00Z".parse().unwrap()).unwrap();
    for member in ["member1", "member2", "member3"] {
        assert!(sim.member_objects(member).is_empty(), "{member}");
    }
    for b in sim.hub().bindings() {
        let g = b.metadata.generation();
        assert!(b.conditions().iter().any(|c| c.type_ == ct::DIFF_REPORTED && c.is_true_at(g)));
        assert!(b.conditions().iter().all(|c| c.type_ != ct::APPLIED));
        assert_eq!(b.spec.apply_strategy.as_ref().unwrap().type_.as_deref(), Some("ReportDiff"));
    }
    // An unavailable member still holds what it applied.
    sim.run_until("2025-03-12T10:07:00Z".parse().unwrap()).unwrap();
    assert!(!sim.member_objects("member2").is_empty());
}
