//! Shared by the `sim_*` scenario tests: load a scenario file from `examples/scenarios/`, run
//! it, check its own expectations, and render its transcript for a snapshot.
#![allow(dead_code)]

use serde_json::{Value, json};
use staged_rollout::sim::{Scenario, Simulation, Transcript};

/// Parses a scenario file (YAML).
pub fn scenario(yaml: &str) -> Scenario {
    serde_saphyr::from_str(yaml).expect("the scenario parses")
}

/// Runs a scenario to the end and asserts that its `expect` section holds.
pub fn run(scenario: &Scenario) -> Simulation {
    let mut sim = Simulation::from_scenario(scenario).expect("the scenario loads");
    sim.run().expect("the simulation settles");
    let failures = scenario.expect.check(&sim);
    assert!(failures.is_empty(), "expectations of `{}` failed:\n{}", scenario.name, failures.join("\n"));
    sim
}

/// The transcript as a snapshot reads best: one line per event, then each member's objects.
pub fn readable(transcript: &Transcript) -> Value {
    let events: Vec<String> = transcript.events.iter().map(ToString::to_string).collect();
    json!({"events": events, "members": transcript.members})
}

/// `(run, cluster)` of every `binding-updated` event, in order.
pub fn binding_updates(transcript: &Transcript) -> Vec<(String, String)> {
    transcript
        .events
        .iter()
        .filter(|e| e.event.as_str() == "binding-updated")
        .map(|e| (e.run.clone().unwrap_or_default(), e.cluster.clone().unwrap_or_default()))
        .collect()
}
