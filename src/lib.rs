//! KubeFleet's staged update runs as a side-effect-free state machine.
//!
//! [KubeFleet] rolls resources out to a fleet of Kubernetes clusters in stages: a
//! `ClusterStagedUpdateStrategy` (or namespaced `StagedUpdateStrategy`) groups member clusters
//! into ordered stages by labels, limits how many update at once and gates stages with approvals
//! and timed waits; a `ClusterStagedUpdateRun` (or `StagedUpdateRun`) executes one release — one
//! resource snapshot — through those stages. Rolling back is another run with an older snapshot.
//!
//! This crate is that engine without the I/O. [`reconcile`] takes the run, what you observed on
//! the hub (a [`World`]), the current time and a [`Config`], and returns an [`Outcome`]: the next
//! status, the [`Action`]s to perform (bind a cluster, create an approval request, delete a
//! binding, …) and a [`Wake`] saying when to call again and why. It is what KubeFleet's
//! controller does, reason for reason and message for message, so a run started by KubeFleet can
//! be continued by this engine and the other way round.
//!
//! * **Controller authors** embed it: list the objects, call [`reconcile`], apply the actions,
//!   write the status, requeue.
//! * **Testers** drive it with generated fleets and event schedules: it is a pure function, so
//!   every interleaving can be replayed exactly.
//! * **Platform teams** feed it a strategy and a fleet to see what a rollout will do before
//!   applying anything.
//!
//! [KubeFleet]: https://github.com/kubefleet-dev/kubefleet
//!
//! # The run loop
//!
//! One reconcile is: observe → [`reconcile`] → apply the actions in order → persist the status →
//! wait for the wake. Here is the whole loop over a hub kept in memory, rolling snapshot 1 of a
//! placement out to two clusters in two stages, the second gated by an approval:
//!
//! ```
//! use staged_rollout::api::*;
//! use staged_rollout::{Action, Config, World, reconcile};
//! # use staged_rollout::api::well_known::{self, condition_types as ct};
//! # use std::sync::Arc;
//! # fn hub() -> World {
//! #     let mut world = World::default();
//! #     let mut spec = PlacementSpec::default();
//! #     spec.strategy.type_ = Some("External".into());
//! #     world.placement = Some(Placement::new(Scope::Cluster, ObjectMeta::named("web"), spec));
//! #     let mut policy: PolicySnapshot = serde_json::from_value(serde_json::json!({
//! #         "metadata": {"name": "web-0", "generation": 1, "labels": {
//! #             "kubernetes-fleet.io/parent-CRP": "web", "kubernetes-fleet.io/is-latest-snapshot": "true",
//! #             "kubernetes-fleet.io/policy-index": "0"}},
//! #         "status": {"conditions": [{"type": "Scheduled", "status": "True", "observedGeneration": 1,
//! #             "lastTransitionTime": "2025-01-01T00:00:00Z", "reason": "Scheduled", "message": ""}]}
//! #     })).unwrap();
//! #     world.policy_snapshots.push(policy);
//! #     world.resource_snapshots.push(serde_json::from_value(serde_json::json!({
//! #         "metadata": {"name": "web-1-snapshot", "labels": {"kubernetes-fleet.io/parent-CRP": "web",
//! #             "kubernetes-fleet.io/resource-index": "1", "kubernetes-fleet.io/is-latest-snapshot": "true"},
//! #             "annotations": {"kubernetes-fleet.io/resource-hash": "abc"}}
//! #     })).unwrap());
//! #     for (name, env) in [("dev1", "dev"), ("prod1", "prod")] {
//! #         world.member_clusters.push(MemberCluster::new(name, [("env", env)]).into());
//! #         world.bindings.push(Arc::new(serde_json::from_value(serde_json::json!({
//! #             "kind": "ClusterResourceBinding",
//! #             "metadata": {"name": format!("web-{name}"), "generation": 1,
//! #                          "labels": {"kubernetes-fleet.io/parent-CRP": "web"}},
//! #             "spec": {"state": "Scheduled", "schedulingPolicySnapshotName": "web-0", "targetCluster": name}
//! #         })).unwrap()));
//! #     }
//! #     world
//! # }
//! # fn apply(world: &mut World, run: &mut ClusterStagedUpdateRun, action: &Action) {
//! #     match action {
//! #         Action::AddFinalizer { .. } => run.metadata.finalizers = Some(vec![well_known::UPDATE_RUN_FINALIZER.into()]),
//! #         Action::UpdateBinding { binding, spec, .. } => {
//! #             let b = world.bindings.iter_mut().find(|b| b.metadata.name() == binding.name).map(Arc::make_mut).unwrap();
//! #             b.spec = spec.clone();
//! #             b.metadata.generation = Some(b.metadata.generation() + 1);
//! #         }
//! #         Action::MarkBindingRolloutStarted { binding, condition, .. } => {
//! #             let b = world.bindings.iter_mut().find(|b| b.metadata.name() == binding.name).map(Arc::make_mut).unwrap();
//! #             let mut c = condition.clone();
//! #             c.observed_generation = b.metadata.generation();
//! #             // The member agent applies the snapshot at once in this example.
//! #             let mut available = Condition::new(ct::AVAILABLE, ConditionStatus::True, c.observed_generation, "Available", "");
//! #             available.last_transition_time = c.last_transition_time;
//! #             b.status = Some(BindingStatus { conditions: vec![c, available], ..Default::default() });
//! #         }
//! #         Action::CreateApprovalRequest { request } => {
//! #             let mut metadata = request.metadata.clone();
//! #             metadata.generation = Some(1);
//! #             world.approval_requests.push(staged_rollout::ObservedApproval { metadata, spec: request.spec.clone(), conditions: vec![] });
//! #         }
//! #         Action::AcceptApprovalRequest { request, condition } => {
//! #             let a = world.approval_requests.iter_mut().find(|a| a.metadata.name() == request.name).unwrap();
//! #             set_condition(&mut a.conditions, condition.clone(), condition.last_transition_time.unwrap());
//! #         }
//! #         other => unreachable!("{other:?}"),
//! #     }
//! # }
//! # fn approve(world: &mut World, name: &str) {
//! #     let a = world.approval_requests.iter_mut().find(|a| a.metadata.name() == name).unwrap();
//! #     a.conditions.push(Condition::new(ct::APPROVED, ConditionStatus::True, 1, "lgtm", "lgtm"));
//! # }
//! // The strategy: `dev` first, then `prod` once somebody approves.
//! let strategy: UpdateStrategySpec = serde_json::from_value(serde_json::json!({
//!     "stages": [
//!         {"name": "dev", "labelSelector": {"matchLabels": {"env": "dev"}}},
//!         {"name": "prod", "labelSelector": {"matchLabels": {"env": "prod"}},
//!          "beforeStageTasks": [{"type": "Approval"}]}
//!     ]
//! }))?;
//! let mut world = hub(); // the placement `web`, its snapshots, clusters and bindings
//! world.strategy = Some(strategy);
//!
//! let mut run = ClusterStagedUpdateRun::new(
//!     ObjectMeta { generation: Some(1), ..ObjectMeta::named("release-1") },
//!     UpdateRunSpec { state: Some(State::Run), ..UpdateRunSpec::new("web", Some("1"), "rollout") },
//! );
//! let config = Config::default();
//! let mut now: Time = "2025-01-01T00:00:00Z".parse()?;
//!
//! loop {
//!     let outcome = reconcile(&run, &world, now, &config)?;
//!     for action in &outcome.actions {
//!         apply(&mut world, &mut run, action); // your I/O: the API server, a database, a fake
//!     }
//!     if outcome.status_changed {
//!         run.status = Some(outcome.status); // your I/O again: the status subresource
//!     }
//!     println!("{now}: {}", outcome.wake.reason);
//!     if outcome.wake.is_idle() {
//!         break; // succeeded, failed or stopped: nothing will happen until the run changes
//!     }
//!     // Someone approves the prod stage as soon as it asks.
//!     if world.approval_requests.iter().any(|a| a.metadata.name() == "release-1-before-prod") {
//!         approve(&mut world, "release-1-before-prod");
//!     }
//!     // Without watches, call again when the wake says; with them, on any change too.
//!     now = outcome.wake.next_call(now).expect("a live run always has a next call");
//! }
//!
//! let status = run.status.as_ref().unwrap();
//! assert!(is_condition_true(&status.conditions, "Succeeded", 1));
//! assert_eq!(status.stages_status[1].clusters[0].cluster_name, "prod1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What goes in: the [`World`]
//!
//! A [`World`] is what one reconcile observed on the hub: the placement the run names, the
//! strategy (read only until the run has initialized and copied it into its status), the policy
//! and resource snapshots, the member clusters, the bindings, the approval requests, the override
//! snapshots per cluster, and — for runs that omit `resourceSnapshotIndex` — the hash of the
//! placement's current resources. Lists may hold more than the run needs; the engine selects
//! what KubeFleet's controller would list (by the `parent-CRP` label, in the run's namespace).
//! Member clusters and bindings are held as `Arc`s, the way a kube-rs reflector store hands
//! them out, so building a `World` from a controller's caches copies no object.
//! Every object type is in [`api`], serde-compatible with KubeFleet's YAML and JSON, keeping
//! unknown fields.
//!
//! # What comes out: status, actions, wake
//!
//! * [`Outcome::status`] is the status KubeFleet's controller would have written, field for
//!   field — or the input status when it would have written nothing (a retriable error, a
//!   terminal run). Skip the write when [`Outcome::status_changed`] is false.
//! * [`Outcome::actions`] are side effects with all the data to carry them out. Apply them in
//!   order; on the first failure stop, do not persist the status, and reconcile again: the
//!   engine re-derives only what is still needed. Every action documents its exact semantics.
//! * [`Outcome::wake`] says when to call again. `at` is an exact instant (a `TimedWait` ends, a
//!   cluster crosses the stuck threshold, "now" after a stage completes); `on_change` says a
//!   change on the hub can unblock progress sooner; `poll` is KubeFleet's fixed interval (15 s or
//!   60 s) for controllers without watches; `reason` says why, for logs and UIs. With kube-rs:
//!   `wake.requeue_after(now).map_or_else(Action::await_change, Action::requeue)`.
//!
//! # Two kinds of failure
//!
//! A **rollout problem** — a missing placement, an invalid strategy, a preempted binding, a
//! changed policy — is written into the status exactly as KubeFleet writes it: conditions with
//! the same types, reasons and messages. An **impossible input** — two member clusters with one
//! name, a world whose placement is not the run's — is an [`EngineError`]. The engine never
//! panics: corrupted statuses and worlds are fuzzed and property-tested.
//!
//! # Time and determinism
//!
//! `now` is an argument and must not go backwards for a run; wake-ups go out. No clock reads, no
//! randomness, no hash-map order reaches the output: the same input gives the same output, byte
//! for byte. Times are whole seconds ([`api::Time`]), as Kubernetes stores them, so a status that
//! goes through JSON compares equal to the one the engine produced.
//!
//! # Fidelity, and every difference from KubeFleet
//!
//! [`Config::default`] is today's KubeFleet (`kubefleet-dev/kubefleet`, API
//! `placement.kubernetes-fleet.io/v1beta1`; `v1` shares the schema). [`Config::seed_compatible`]
//! is the older KubeFleet the project's seed how-to was written against: runs without
//! `spec.state` start at once, after-stage approval requests are named `<run>-<stage>`, an
//! `Approved` condition without `observedGeneration` counts, and stage names may contain `-`.
//! The stuck threshold and KubeFleet's two polling intervals are [`Config`] fields too.
//!
//! Where the engine differs from KubeFleet's controller, it is on input KubeFleet's API server
//! would reject or on which its controller would crash or hang:
//!
//! * An absent `maxConcurrency` means 1, the CRD's default (KubeFleet's controller errors on it).
//!   A negative integer fails the run with a message (KubeFleet's would never start a cluster).
//! * At initialization, a strategy with more than 31 stages, duplicate stage names or names
//!   outside [`Config::stage_names`] fails the run with a message naming the field and value
//!   (KubeFleet relies on the API server never storing such a strategy).
//! * A status too corrupted to follow — a missing task status entry, a `TimedWait` without a
//!   duration in the snapshot — fails the run with an `unexpected behavior` message where
//!   KubeFleet's controller would crash.
//! * A run that omits `resourceSnapshotIndex` gets an [`Action::CreateResourceSnapshot`] when
//!   the latest snapshot is stale: KubeFleet's controller creates the snapshot itself inside the
//!   reconcile. With no snapshot at all and no [`World::current_resource_hash`], the engine
//!   retries with a message instead.
//! * [`Action::MarkBindingRolloutStarted`] carries the generation the engine expects after its
//!   own spec write; the caller writes the generation the API server actually returned.
//! * The "applyStrategy is outdated" message prints a server-side-apply config as `&{<force>}`
//!   where Go prints a pointer address.
//! * A `nil` stage selector selects no cluster, as KubeFleet's informer cache evaluates it (an
//!   uncached list would select every cluster).
//!
//! # Plugging in your I/O: [`Fleet`] and [`Driver`]
//!
//! Every caller needs the same sequence around [`reconcile`] and gets it subtly wrong by hand:
//! observe, reconcile, apply the actions in order and stop at the first failure, persist the
//! status only when it changed and only against the `resourceVersion` observed (so a stale
//! observation cannot overwrite newer progress), then honour the wake. Implement [`Fleet`] —
//! `observe`, `apply`, `write_status`, each returning a `Send` future — over your client (kube-rs,
//! a database, a test double) and call [`Driver::step`]; every failure comes back as a
//! [`DriverError`] and leaves the run recoverable by the next step. The crate depends on no async
//! runtime: a kube-rs reconciler awaits [`Driver::step`] on tokio, and the simulator polls the
//! same future once with [`block_on_ready`].
//!
//! # Large fleets: [`PlanCache`]
//!
//! Every reconcile re-derives the run's stages from the world — that is how KubeFleet notices a
//! relabelled cluster — and at thousands of clusters that is nearly all of a step: sorting and
//! checking the member clusters and bindings, grouping the clusters by label. A rollout does not
//! change what that grouping reads (it changes bindings' states, resources and conditions), so a
//! [`PlanCache`] kept per run remembers the plan and the objects it came from, and the next
//! reconcile reuses it when the world's member clusters and bindings are the same `Arc`s, or
//! copies that differ only in what planning does not read; and told the `resourceVersion` a
//! status it produced was stored at ([`PlanCache::persisted`]), it checks a run read at that
//! version stage by stage instead of cluster by cluster. The outcome is the same with or
//! without the cache, byte for byte; at 10,000 clusters in 31 stages a step goes from about as
//! long as merely parsing the run's status JSON to 1–2 % of it (`benches/README.md`).
//! [`Driver`] keeps one per run by itself, told the version [`Fleet::write_status`] answers;
//! callers of the engine use [`PlanCache::reconcile_in_place`] and [`PlanCache::persisted`].
//!
//! # Simulating a rollout: [`sim`]
//!
//! [`sim::Simulation`] is a deterministic hub — placements with KubeFleet's scheduler, resource
//! snapshots, member agents that apply after configurable delays or fail, approvers, scripted
//! events — on a virtual clock that jumps to the next wake-up. It implements [`Fleet`], so the
//! [`Driver`] runs in simulation exactly as in production. Scenarios are plain serde data (the
//! YAML format is documented in `examples/scenarios/README.md`), and every simulation yields a
//! [`sim::Transcript`] of timestamped events and what each member holds:
//!
//! ```
//! use staged_rollout::sim::{RunPhase, Scenario, Simulation};
//!
//! // The seed how-to's cluster-scoped half: a rollout of `value2`, then a rollback to `value1`.
//! let yaml = include_str!("../examples/scenarios/seed-cluster.yaml");
//! let scenario: Scenario = serde_saphyr::from_str(yaml)?;
//! let mut sim = Simulation::from_scenario(&scenario)?;
//! sim.run()?;
//! assert_eq!(sim.run_phase("example-run"), RunPhase::Succeeded);
//! assert_eq!(sim.run_phase("example-run-2"), RunPhase::Succeeded);
//! let transcript = sim.transcript();
//! assert!(transcript.events.iter().any(|e| e.approval_request.as_deref() == Some("example-run-canary")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `cargo run --example simulate -- FILE [--json]` runs a scenario file from the command line;
//! `cargo run --example walkthrough` replays the whole seed how-to.
//!
//! # Feature flags
//!
//! * `proptest` — generators for fleets, strategies and event schedules, and checkers for the
//!   rollout invariants, for your own property tests.
//!
//! # Testing your strategy
//!
//! With the `proptest` feature, [`testing`] generates fleets, strategies, runs, member
//! behaviours, event schedules and faults, plays them in the simulator and checks nine rollout
//! invariants on the result; its module docs are the guide, from a strategy of your own to a
//! failing case minimised by proptest.
// Without the feature there is no `testing` module to link to; the name stays plain text.
#![cfg_attr(not(feature = "proptest"), allow(rustdoc::broken_intra_doc_links))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod action;
pub mod api;
mod config;
mod driver;
mod engine;
mod gocompat;
pub mod sim;
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod testing;
mod wake;
mod world;

pub use action::{Action, NewApprovalRequest, ObjectRef};
pub use config::{ApprovalNaming, Config};
pub use driver::{
    Applied, Clock, Driver, DriverError, Fleet, FleetError, Observation, Step, UpdateRun, block_on_ready,
};
pub use engine::{EngineError, InPlaceOutcome, Outcome, PlanCache, reconcile, reconcile_in_place};
pub use wake::{Wake, WakeReason};
pub use world::{ClusterOverrides, ObservedApproval, World};
