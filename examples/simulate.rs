//! Runs a scenario file and prints its transcript.
//!
//! ```text
//! cargo run --example simulate -- examples/scenarios/seed-cluster.yaml          # readable
//! cargo run --example simulate -- examples/scenarios/seed-cluster.yaml --json   # the transcript as JSON
//! ```
//!
//! The exit status is 1 when the scenario's expectations do not hold, 2 when it cannot be read
//! or simulated.

use std::process::ExitCode;

use staged_rollout::sim::{Scenario, Simulation};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: simulate SCENARIO.yaml [--json]");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario: Scenario = match serde_saphyr::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sim = match Simulation::from_scenario(&scenario) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = sim.run() {
        eprintln!("{path}: {e}");
        return ExitCode::from(2);
    }
    let transcript = sim.transcript();
    let failures = scenario.expect.check(&sim);
    if json {
        println!("{}", transcript.to_json());
    } else {
        println!("# {} ({} events, {} steps)", scenario.name, transcript.events.len(), sim.steps());
        for e in &transcript.events {
            println!("{e}");
        }
        println!();
        for (cluster, objects) in &transcript.members {
            println!("{cluster}:");
            for o in objects {
                let kind = o["kind"].as_str().unwrap_or("?");
                let name = o["metadata"]["name"].as_str().unwrap_or("?");
                let ns = o["metadata"]["namespace"].as_str().map(|n| format!("{n}/")).unwrap_or_default();
                let body = o.get("data").or_else(|| o.get("spec")).map(|v| v.to_string()).unwrap_or_default();
                println!("  {kind} {ns}{name} {body}");
            }
        }
    }
    if failures.is_empty() {
        if !json {
            println!("\nall expectations hold");
        }
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("expectation failed: {f}");
        }
        ExitCode::from(1)
    }
}
