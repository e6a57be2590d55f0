//! A first look at staged-rollout: the seed how-to's strategies and runs, parsed, validated and
//! explained.
//!
//! Run it with `cargo run --example walkthrough`.
//!
//! This is a placeholder: a later version walks through a complete simulated rollout. For now it
//! reads the manifests of the seed how-to ("How to Roll Out and Roll Back Changes in Stage",
//! kept in `tests/fixtures/seed/`), validates them under the seed-compatible preset's stage-name
//! rule — the how-to's namespaced stages are called `dev-clusters` and `prod-clusters`, which
//! today's CRD (`^[a-z0-9]+$`) rejects — and prints the stages each strategy defines.

use std::error::Error;

use serde::de::DeserializeOwned;
use staged_rollout::Config;
use staged_rollout::api::{
    ClusterStagedUpdateRun, ClusterStagedUpdateStrategy, StageConfig, StageTask, StagedUpdateRun, StagedUpdateStrategy,
    UpdateRunObject, UpdateStrategyObject, ValidationOptions, compile, validate_run, validate_strategy,
};

macro_rules! seed {
    ($file:literal) => {
        ($file, include_str!(concat!("../tests/fixtures/seed/", $file)))
    };
}

fn main() -> Result<(), Box<dyn Error>> {
    // The seed how-to was written against an older KubeFleet; `Config::seed_compatible()` is the
    // engine preset for it, and its stage-name rule is the one the how-to's manifests need.
    let config = Config::seed_compatible();
    let options = ValidationOptions { stage_names: config.stage_names };
    println!(
        "Validating the seed how-to's manifests with the seed-compatible stage-name rule ({:?}).",
        options.stage_names
    );
    println!("(Today's rule would reject the namespaced stage names `dev-clusters` and `prod-clusters`.)");

    let cluster: ClusterStagedUpdateStrategy = parse(seed!("cluster-staged-update-strategy-example-strategy.yaml"))?;
    validate_strategy(&cluster, options)?;
    print_strategy(&cluster);

    let namespaced: StagedUpdateStrategy = parse(seed!("staged-update-strategy-app-rollout-strategy.yaml"))?;
    validate_strategy(&namespaced, options)?;
    print_strategy(&namespaced);

    println!("\nRuns:");
    for manifest in
        [seed!("cluster-staged-update-run-example-run.yaml"), seed!("cluster-staged-update-run-example-run-2.yaml")]
    {
        let run: ClusterStagedUpdateRun = parse(manifest)?;
        validate_run(&run)?;
        print_run(&run, &config);
    }
    for manifest in
        [seed!("staged-update-run-web-app-rollout-v1-21.yaml"), seed!("staged-update-run-web-app-rollback-v1-20.yaml")]
    {
        let run: StagedUpdateRun = parse(manifest)?;
        validate_run(&run)?;
        print_run(&run, &config);
    }
    Ok(())
}

/// Parses one manifest, naming the file in the error.
fn parse<T: DeserializeOwned>((file, yaml): (&str, &str)) -> Result<T, Box<dyn Error>> {
    serde_saphyr::from_str(yaml).map_err(|e| format!("{file}: {e}").into())
}

fn print_strategy<S: UpdateStrategyObject>(strategy: &S) {
    let meta = strategy.metadata();
    let name = match meta.namespace() {
        "" => meta.name().to_owned(),
        ns => format!("{ns}/{}", meta.name()),
    };
    println!("\n{} {name}: valid, {} stage(s)", S::KIND, strategy.spec().stages.len());
    for (i, stage) in strategy.spec().stages.iter().enumerate() {
        print_stage(i + 1, stage);
    }
}

fn print_stage(number: usize, stage: &StageConfig) {
    println!("  {number}. {}", stage.name);
    let selector = match &stage.label_selector {
        None => "none: the stage selects no cluster".to_owned(),
        Some(s) if s.is_empty() => "{}: every cluster the placement picked".to_owned(),
        Some(s) => match compile(Some(s)) {
            Ok(compiled) => compiled.to_string(),
            Err(e) => format!("invalid: {e}"),
        },
    };
    println!("     clusters:    {selector}");
    match &stage.sorting_label_key {
        Some(key) => println!("     order:       by the integer value of label `{key}`, then by name"),
        None => println!("     order:       by cluster name"),
    }
    match &stage.max_concurrency {
        Some(n) => println!("     concurrency: {n}"),
        None => println!("     concurrency: 1 (the default)"),
    }
    println!("     before:      {}", tasks(&stage.before_stage_tasks));
    println!("     after:       {}", tasks(&stage.after_stage_tasks));
}

fn tasks(tasks: &[StageTask]) -> String {
    if tasks.is_empty() {
        return "-".to_owned();
    }
    let described: Vec<String> = tasks
        .iter()
        .map(|t| match t.wait_time {
            Some(wait) => format!("{} {wait}", t.type_),
            None => t.type_.to_string(),
        })
        .collect();
    described.join(", ")
}

fn print_run<R: UpdateRunObject>(run: &R, config: &Config) {
    let meta = run.metadata();
    let spec = run.spec();
    let index = match spec.resource_snapshot_index() {
        "" => "the latest".to_owned(),
        i => i.to_owned(),
    };
    let state = match &spec.state {
        Some(state) => state.to_string(),
        None => format!("absent, so {} under the seed-compatible preset", config.missing_state),
    };
    let namespace = match meta.namespace() {
        "" => String::new(),
        ns => format!("{ns}/"),
    };
    println!(
        "  {} {namespace}{}: placement {}, resource snapshot index {index}, strategy {}, state {state}",
        R::KIND,
        meta.name(),
        spec.placement_name,
        spec.staged_update_strategy_name,
    );
}
