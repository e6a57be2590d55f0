//! The README's example, compiled and run. The code below the marker must be the README's
//! ```rust block verbatim; `the_readme_shows_this_example` keeps them in step.

#[test]
fn the_readme_example_runs() {
    main().expect("the README example succeeds");
}

#[test]
fn the_readme_shows_this_example() {
    let readme = include_str!("../README.md");
    let start = readme.find("```rust\n").expect("the README has a rust block") + "```rust\n".len();
    let end = start + readme[start..].find("```").expect("the block is closed");
    let this_file = include_str!("api_readme.rs");
    let marker = "// ---- README example ----\n";
    let example = &this_file[this_file.find(marker).expect("the marker is present") + marker.len()..];
    assert_eq!(&readme[start..end], example, "README.md and tests/api_readme.rs differ");
}

// ---- README example ----
use staged_rollout::api::{ClusterStagedUpdateStrategy, ValidationOptions, validate_strategy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let yaml = "
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata:
  name: example-strategy
spec:
  stages:
    - name: staging
      labelSelector:
        matchLabels:
          environment: staging
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      afterStageTasks:
        - type: Approval
";
    let strategy: ClusterStagedUpdateStrategy = serde_saphyr::from_str(yaml)?;
    validate_strategy(&strategy, ValidationOptions::default())?;
    for stage in &strategy.spec.stages {
        let tasks: Vec<String> = stage.after_stage_tasks.iter().map(|t| t.type_.to_string()).collect();
        println!("{}: then {}", stage.name, tasks.join(", "));
    }
    Ok(())
}
