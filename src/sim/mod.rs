//! A deterministic simulated hub and fleet, driven through the same [`Driver`] and [`Fleet`](crate::Fleet)
//! trait a controller uses.
//!
//! * [`Hub`] holds what an API server would: member clusters, placements, policy and resource
//!   snapshots, bindings, strategies, runs, approval requests, and the hub's own resources (the
//!   Namespaces, ConfigMaps, Deployments a placement selects). It implements [`Fleet`](crate::Fleet).
//! * KubeFleet's scheduler creates, keeps and unschedules bindings (PickAll, PickN, PickFixed);
//!   resource snapshots are taken on change (the seed's KubeFleet) or on request (today's);
//!   member agents apply a bound snapshot after a delay and report back, or fail.
//! * A virtual clock jumps from one due thing to the next — an engine wake-up, a member agent
//!   finishing, a scripted event — with a step bound that reports livelock
//!   ([`SimError::Livelock`]).
//! * Everything that happens is recorded in a [`Transcript`], as data.
//!
//! ```
//! use staged_rollout::sim::{Scenario, Simulation};
//!
//! let scenario: Scenario = serde_json::from_value(serde_json::json!({
//!     "name": "empty fleet",
//!     "fleet": [{"name": "member1", "labels": {"environment": "staging"}}]
//! }))?;
//! let mut sim = Simulation::from_scenario(&scenario)?;
//! sim.run()?;
//! assert!(scenario.expect.check(&sim).is_empty());
//! assert_eq!(sim.transcript().events[0].event.as_str(), "cluster-joined");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reconciles are watch-driven in [`Wakeups::Exact`] mode: any change a watch would notice (a
//! binding's status, an approval, a snapshot, a member cluster, a run's spec) reconciles the
//! affected runs at once, and the engine's exact [`Wake::at`](crate::Wake::at) schedules the
//! rest. [`Wakeups::Polling`] reconciles as KubeFleet's controller does instead.

mod clock;
mod faults;
mod fleet;
mod hub;
mod manifests;
mod member;
mod resources;
mod scenario;
mod scheduler;
mod script;
mod tables;
mod transcript;

use std::collections::BTreeMap;

use crate::action::ObjectRef;
use crate::api::{Duration, Time};
use crate::config::Config;
use crate::driver::{Driver, DriverError, Observation, Step, UpdateRun, block_on_ready};
use crate::engine::EngineError;

pub use faults::{Fault, FaultPlan, FaultWhen, RandomFaults};
use hub::SpareRun;
pub use hub::{Hub, SnapshotMode};
pub use member::{Delay, MemberBehaviour, MemberFailure};
pub use scenario::{
    ApprovalPolicy, EnginePreset, Expectations, FleetMember, RunPhase, Scenario, Settings, Wakeups, matches_pattern,
};
pub use script::{
    Approve, ClusterLabels, ClusterName, FailCluster, ObjectName, RequestName, ScriptAction, ScriptStep, SetState,
};
pub use tables::{Kubectl, Table};
pub use transcript::{Event, EventKind, ReconcileRecord, Transcript};

use clock::EventQueue;
use faults::{ArmedFault, Chaos, FaultState, Keep, SimFleet};
use hub::Key;
use member::{MemberWork, Members};

/// Why a simulation stopped.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// More than the step bound of events were processed: something keeps waking up without
    /// making progress.
    #[error("livelock: {steps} steps without settling, at {at}")]
    Livelock {
        /// The bound that was hit.
        steps: usize,
        /// The simulated time then.
        at: Time,
    },
    /// A manifest could not be applied.
    #[error("cannot apply the {kind} manifest: {message}")]
    Manifest {
        /// Its kind.
        kind: String,
        /// Why.
        message: String,
    },
    /// A scripted event could not be carried out (it names something that does not exist).
    #[error("script: {0}")]
    Script(String),
    /// A scenario loaded into a running simulation disagrees with its settings.
    #[error("settings: {0}")]
    Settings(String),
    /// The engine rejected what the hub showed it — a bug in the simulator.
    #[error("the engine rejected the simulated hub's world for {run}: {source}")]
    Engine {
        /// The run.
        run: ObjectRef,
        /// The engine's error.
        source: EngineError,
    },
}

/// Why a reconcile is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// The engine's wake-up (or a poll); superseded by the next one.
    Timer,
    /// A watch noticed a change.
    Watch,
    /// A retry after an error.
    Retry,
}

#[derive(Clone, Debug)]
enum Due {
    Reconcile { run: Key, cause: Cause },
    Member(MemberWork),
    Approve { request: Key, uid: String },
    Script(Box<script::ScriptAction>),
}

#[derive(Clone, Debug, Default)]
struct RunTrack {
    idle: bool,
    timer: Option<u64>,
    watch_pending: bool,
    reconciles: u32,
    last_observation: Option<Observation>,
}

/// A simulation: a [`Hub`], member agents, a virtual clock, and a [`Driver`] reconciling every
/// run.
#[derive(Clone, Debug)]
pub struct Simulation {
    hub: Hub,
    members: Members,
    queue: EventQueue<Due>,
    driver: Driver,
    settings: Settings,
    approvals: ApprovalPolicy,
    runs: BTreeMap<Key, RunTrack>,
    faults: Vec<ArmedFault>,
    steps: usize,
    max_steps: usize,
    until: Option<Time>,
    /// After a crash: the controller is down until then, and watch events wait for its restart.
    down_until: Option<Time>,
    /// Seeded random faults.
    chaos: Option<Chaos>,
    /// Whether reconciles are recorded, and the record.
    record: bool,
    reconciles: Vec<transcript::ReconcileRecord>,
    /// The run of the last driver step, kept so that the next observation reuses it (as it is
    /// when the step persisted it and nothing wrote the run since; else copied over, reusing its
    /// buffers) instead of being allocated anew while this one is freed.
    spare_run: Option<SpareRun>,
}

impl Simulation {
    /// An empty hub at `settings.start`, with the engine configuration the settings name.
    pub fn new(settings: &Settings) -> Simulation {
        Simulation::with_config(settings, settings.config())
    }

    /// [`Simulation::new`] with any engine configuration.
    pub fn with_config(settings: &Settings, config: Config) -> Simulation {
        let start = settings.start;
        Simulation {
            hub: Hub::new(start, settings.snapshot_mode()),
            members: Members::default(),
            queue: EventQueue::new(),
            driver: Driver::new(config),
            settings: settings.clone(),
            approvals: ApprovalPolicy::default(),
            runs: BTreeMap::new(),
            faults: Vec::new(),
            steps: 0,
            max_steps: settings.max_steps.unwrap_or(10_000),
            until: settings.until.map(|d| start.add_ceil(d)),
            down_until: None,
            chaos: settings.faults.clone().map(Chaos::new),
            record: false,
            reconciles: Vec::new(),
            spare_run: None,
        }
    }

    /// A simulation of `scenario` from its start.
    pub fn from_scenario(scenario: &Scenario) -> Result<Simulation, SimError> {
        let mut sim = Simulation::new(&scenario.settings);
        sim.load(scenario)?;
        Ok(sim)
    }

    /// Loads a scenario into this simulation, starting now: its fleet joins (clusters already
    /// there keep their state and take its labels), its manifests are applied, its script is
    /// scheduled relative to now, and its approval policy replaces the current one. Its settings
    /// must agree with this simulation's (engine, wake-ups, snapshot mode).
    pub fn load(&mut self, scenario: &Scenario) -> Result<(), SimError> {
        let s = &scenario.settings;
        if s.engine != self.settings.engine
            || s.wakeups != self.settings.wakeups
            || s.snapshot_mode() != self.settings.snapshot_mode()
        {
            return Err(SimError::Settings(format!(
                "scenario `{}` needs engine {:?}, wake-ups {:?}, snapshots {:?}",
                scenario.name,
                s.engine,
                s.wakeups,
                s.snapshot_mode()
            )));
        }
        let now = self.hub.now;
        if let Some(until) = s.until {
            self.until = Some(now.add_ceil(until));
        }
        self.members.defaults = scenario.member_defaults.clone();
        self.approvals = scenario.approvals.clone();
        for m in &scenario.fleet {
            self.members.configure(&m.name, MemberBehaviour { delay: m.delay.clone(), failure: m.failure.clone() });
            self.hub.join_cluster(&m.name, m.labels.clone());
        }
        for manifest in &scenario.manifests {
            self.hub.apply_manifest(manifest)?;
        }
        for step in &scenario.script {
            self.queue.push(now.add_ceil(step.at), Due::Script(Box::new(step.action.clone())));
        }
        self.settle();
        Ok(())
    }

    // ----- read access -----

    /// The simulated time.
    pub fn now(&self) -> Time {
        self.hub.now
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The hub as a [`Fleet`](crate::Fleet), to drive a run by hand with a [`Driver`] (or your own loop) at
    /// [`Simulation::now`]. What the reconcile changes is picked up by the next
    /// [`Simulation::step`], [`Simulation::run`] or [`Simulation::run_until`]: member agents
    /// react, watches fire.
    pub fn fleet(&mut self) -> &mut Hub {
        // Whatever is done to the hub by hand (even replacing it), the last step's run is no
        // longer known to be the stored one: it is only a buffer for the next observation.
        if let Some(spare) = self.spare_run.as_mut() {
            spare.as_stored = false;
        }
        &mut self.hub
    }

    /// The engine configuration.
    pub fn config(&self) -> &Config {
        &self.driver.config
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The run named `name` (of either scope; the first in namespace order if several share it).
    pub fn update_run(&self, name: &str) -> Option<&UpdateRun> {
        self.hub.runs().find(|r| r.metadata().name() == name)
    }

    /// The phase of the run named `name`.
    pub fn run_phase(&self, name: &str) -> RunPhase {
        RunPhase::of(self.update_run(name))
    }

    /// The events so far.
    pub fn events(&self) -> &[Event] {
        &self.hub.transcript
    }

    /// What member `cluster` holds.
    pub fn member_objects(&self, cluster: &str) -> Vec<serde_json::Value> {
        self.members.objects(&self.hub).remove(cluster).unwrap_or_default()
    }

    /// The transcript so far: the events, and what each member cluster holds now.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            events: self.hub.transcript.clone(),
            members: self.members.objects(&self.hub),
            reconciles: self.reconciles.clone(),
        }
    }

    /// Starts (or stops) recording every reconcile — what the engine observed, computed and
    /// asked for, and what became of it — into [`Transcript::reconciles`], for invariant
    /// checkers such as `staged_rollout::testing::check_transcript`.
    pub fn record_reconciles(&mut self, on: bool) {
        self.record = on;
    }

    /// The reconciles recorded so far (see [`Simulation::record_reconciles`]).
    pub fn reconciles(&self) -> &[ReconcileRecord] {
        &self.reconciles
    }

    /// How many random faults ([`Settings::faults`]) have fired so far.
    pub fn random_faults_fired(&self) -> u32 {
        self.chaos.as_ref().map_or(0, |c| c.fired)
    }

    /// `kubectl get …` tables of the hub as it is now.
    pub fn kubectl(&self) -> Kubectl<'_> {
        Kubectl::new(&self.hub)
    }

    /// How many events were processed.
    pub fn steps(&self) -> usize {
        self.steps
    }

    // ----- control -----

    /// Applies a manifest now (see [`ScriptAction::Apply`]).
    pub fn apply(&mut self, manifest: &serde_json::Value) -> Result<(), SimError> {
        self.hub.apply_manifest(manifest)?;
        self.settle();
        Ok(())
    }

    /// Schedules a scripted action `after` from now.
    pub fn schedule(&mut self, after: Duration, action: ScriptAction) {
        self.queue.push(self.hub.now.add_ceil(after), Due::Script(Box::new(action)));
    }

    /// Arms a fault (see [`FaultPlan`]).
    pub fn inject(&mut self, plan: FaultPlan) {
        self.faults.push(ArmedFault { plan, state: FaultState::Armed });
    }

    /// Processes the next due thing (and everything it triggers at the same instant goes into the
    /// queue). Returns false when nothing is due (or the next thing is past `until`).
    pub fn step(&mut self) -> Result<bool, SimError> {
        self.settle();
        let Some(at) = self.queue.peek_time() else { return Ok(false) };
        if self.until.is_some_and(|u| at > u) {
            return Ok(false);
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(SimError::Livelock { steps: self.max_steps, at });
        }
        let Some((at, seq, due)) = self.queue.pop() else { return Ok(false) };
        self.hub.now = self.hub.now.max(at);
        match due {
            Due::Reconcile { run, cause } => {
                let track = self.runs.entry(run.clone()).or_default();
                match cause {
                    Cause::Timer if track.timer != Some(seq) => {}
                    _ => {
                        if cause == Cause::Timer {
                            track.timer = None;
                        }
                        if cause == Cause::Watch {
                            track.watch_pending = false;
                        }
                        self.reconcile(&run)?;
                    }
                }
            }
            Due::Member(work) => self.members.complete(&mut self.hub, work),
            Due::Approve { request, uid } => {
                let current = self.hub.approvals.get(&request).and_then(|a| a.metadata.uid.as_deref());
                if current == Some(uid.as_str()) {
                    let reason = self.approvals.reason.clone();
                    self.hub.approve(&request, self.approvals.observed_generation, &reason, "auto-approval");
                }
            }
            Due::Script(action) => self.execute(&action)?,
        }
        self.settle();
        Ok(true)
    }

    /// Runs until nothing is due (or `until`).
    pub fn run(&mut self) -> Result<(), SimError> {
        while self.step()? {}
        Ok(())
    }

    /// Runs everything due up to and including `t`, then moves the clock to `t`.
    pub fn run_until(&mut self, t: Time) -> Result<(), SimError> {
        // What changed since the last step (through `fleet()`) may be all that is due.
        self.settle();
        while self.queue.peek_time().is_some_and(|next| next <= t) {
            if !self.step()? {
                break;
            }
        }
        self.hub.now = self.hub.now.max(t);
        Ok(())
    }

    /// Runs until an event matching `pred` is recorded; returns it (`None` when the simulation
    /// ends first).
    pub fn run_until_event(&mut self, mut pred: impl FnMut(&Event) -> bool) -> Result<Option<Event>, SimError> {
        let mut seen = self.hub.transcript.len();
        loop {
            if !self.step()? {
                return Ok(None);
            }
            if let Some(e) = self.hub.transcript[seen..].iter().find(|e| pred(e)) {
                return Ok(Some(e.clone()));
            }
            seen = self.hub.transcript.len();
        }
    }

    // ----- internals -----

    /// Turns what changed on the hub into due work: watch-driven reconciles, member agent work,
    /// auto-approvals.
    fn settle(&mut self) {
        // A reconcile driven by hand through `fleet()` has ended by now.
        self.hub.end_reconcile();
        let now = self.hub.now;
        for (key, uid) in std::mem::take(&mut self.hub.created_approvals) {
            let auto =
                self.approvals.after.filter(|_| self.approvals.only.is_empty() || self.approvals.only.contains(&key.1));
            if let Some(after) = auto {
                self.queue.push(now.add_ceil(after), Due::Approve { request: key, uid });
            }
        }
        for cluster in std::mem::take(&mut self.hub.left_clusters) {
            self.members.forget(&cluster);
        }
        let touched = std::mem::take(&mut self.hub.touched);
        // Nothing a watch sees changed (as after every event's first settle): no run to wake.
        let runs = if touched.is_empty() { Vec::new() } else { self.hub.runs.keys().cloned().collect() };
        for run in runs {
            let track = self.runs.entry(run.clone()).or_default();
            let spec = self.hub.runs[&run].spec();
            let placement = (run.0.clone(), spec.placement_name.clone());
            let exact = self.settings.wakeups == Wakeups::Exact;
            let wake = touched.runs.contains(&run)
                || (!track.idle
                    && (touched.approvals_of.contains(&run)
                        || exact && (touched.clusters || touched.placements.contains(&placement))));
            if wake && !track.watch_pending {
                track.watch_pending = true;
                let when = self.down_until.map_or(now, |t| t.max(now));
                self.queue.push(when, Due::Reconcile { run, cause: Cause::Watch });
            }
        }
        let written = self.hub.binding_writes.take();
        for (delay, work) in self.members.scan(&self.hub, written) {
            self.queue.push(now.add_ceil(delay), Due::Member(work));
        }
    }

    /// Whether a later reconcile may be served a stale observation: a planned stale-observation
    /// fault not yet spent, or random faults that draw them.
    fn stale_observations_possible(&self) -> bool {
        self.faults.iter().any(|f| f.plan.fault == Fault::StaleObservation && f.state != FaultState::Done)
            || self.chaos.as_ref().is_some_and(|c| c.config.kinds.contains(&Fault::StaleObservation))
    }

    /// Records an event of `run` at the hub's time.
    fn record_run_event(&mut self, run: &Key, kind: EventKind, detail: impl Into<String>) {
        let event = Event::new(self.hub.now, kind).run(&run.0, &run.1).detail(detail);
        self.hub.record(event);
    }

    fn retry_after(&self) -> Duration {
        self.settings.retry_after.unwrap_or(Duration::from_secs(1))
    }

    /// One reconcile of `key` through the driver, with any fault armed for it.
    fn reconcile(&mut self, key: &Key) -> Result<(), SimError> {
        let Some(run) = self.hub.runs.get(key) else { return Ok(()) };
        let run_ref = run.object_ref();
        let hub_now = self.hub.now;
        let keep = Keep { fresh: self.stale_observations_possible(), served: self.record };
        let track = self.runs.entry(key.clone()).or_default();
        track.reconciles += 1;
        let nth = track.reconciles;
        let previous = &track.last_observation;

        let mut drawn = self.chaos.as_mut().and_then(Chaos::draw);
        let now = self.chaos.as_mut().map_or(hub_now, |c| c.now(hub_now));
        let fault = self.faults.iter_mut().find(|f| f.plan.run == key.1 && f.state != FaultState::Done);
        let mut stale = None;
        let mut active = None;
        if let Some(f) = fault {
            let stale_now = f.plan.fault == Fault::StaleObservation
                && (f.state == FaultState::StaleNext || f.plan.when == FaultWhen::Reconcile(nth));
            if stale_now && previous.is_none() {
                // No observation was kept (the fault was injected after the previous reconcile,
                // or this is the run's first): this one is kept, and served next time.
                f.state = FaultState::StaleNext;
            } else if stale_now {
                f.state = FaultState::Done;
                stale = previous.clone();
            } else if f.state == FaultState::Armed {
                active = Some(f);
            }
        }
        if drawn.as_ref().is_some_and(|d| d.fault == Fault::StaleObservation) {
            drawn = None;
            if stale.is_none() && previous.is_some() {
                stale = previous.clone();
                if let Some(c) = self.chaos.as_mut() {
                    c.fired += 1;
                }
            }
        }
        let stale_note = stale.is_some();
        let mut fleet = SimFleet::new(&mut self.hub, active, drawn.clone(), nth, stale, keep);
        fleet.spare = self.spare_run.take();
        let result = block_on_ready(self.driver.step(&mut fleet, &run_ref, now));
        fleet.flush_deferred();
        let SimFleet { fresh, fired, served, applied, persisted, .. } = fleet;
        self.hub.end_reconcile();
        let random_fired = fired.iter().any(|f| Some(f) == drawn.as_ref().map(|d| &d.fault));
        // A restart follows a completed reconcile.
        let restart = drawn.as_ref().is_some_and(|d| d.fault == Fault::Restart) && result.is_ok();
        if let Some(c) = self.chaos.as_mut()
            && (random_fired || restart)
        {
            c.fired += 1;
        }
        if stale_note {
            self.record_run_event(
                key,
                EventKind::FaultInjected,
                "stale observation: the hub as of the previous reconcile",
            );
            // The lagging cache catches up: the watch events this reconcile could not see are
            // delivered again (a real informer calls its handlers only once its cache holds the
            // change, so the change that triggered this reconcile is not lost for good).
            let at = hub_now.add_ceil(self.retry_after());
            self.queue.push(at, Due::Reconcile { run: key.clone(), cause: Cause::Watch });
        }
        let crashed = fired.contains(&Fault::CrashBeforeStatusWrite);
        for f in &fired {
            self.record_run_event(key, EventKind::FaultInjected, f.describe());
        }
        if self.record
            && let Some(observed) = &served
        {
            let mut faults = fired.clone();
            if restart {
                faults.push(Fault::Restart);
            }
            let driven = result.as_ref().ok();
            self.record_reconcile(observed, now, driven, applied, persisted, &faults, stale_note)?;
        }
        let track = self.runs.entry(key.clone()).or_default();
        if !keep.fresh {
            // Holding it would keep the hub's objects shared, and copied on their next write.
            track.last_observation = None;
        } else if fresh.is_some() {
            track.last_observation = fresh;
        }
        match result {
            Ok(step) => {
                let wake = &step.outcome.wake;
                track.idle = wake.is_idle();
                let next = match self.settings.wakeups {
                    Wakeups::Exact => wake.at,
                    Wakeups::Polling => wake.next_call(now),
                };
                track.timer = next
                    .map(|t| self.queue.push(t.max(hub_now), Due::Reconcile { run: key.clone(), cause: Cause::Timer }));
                if restart {
                    self.record_run_event(key, EventKind::FaultInjected, Fault::Restart.describe());
                    self.restart_controller(hub_now.add_ceil(self.retry_after()));
                }
                let as_stored = (persisted || !step.outcome.status_modified) && fired.is_empty() && !stale_note;
                self.spare_run = Some(SpareRun { run: step.run, as_stored });
            }
            Err(DriverError::Engine { run, source }) => return Err(SimError::Engine { run, source }),
            Err(e) => {
                self.record_run_event(key, EventKind::ReconcileError, e.to_string());
                let at = hub_now.add_ceil(self.retry_after());
                if crashed {
                    self.restart_controller(at);
                } else {
                    self.queue.push(at, Due::Reconcile { run: key.clone(), cause: Cause::Retry });
                }
            }
        }
        Ok(())
    }

    /// A restarted controller has no timers, no plan caches and missed the watch events of its
    /// downtime: at `at` it lists every run and reconciles it.
    fn restart_controller(&mut self, at: Time) {
        self.down_until = Some(at);
        self.driver.forget_all();
        self.queue.retain(|d| !matches!(d, Due::Reconcile { .. }));
        for (run, track) in &mut self.runs {
            track.timer = None;
            track.watch_pending = false;
            if self.hub.runs.contains_key(run) {
                self.queue.push(at, Due::Reconcile { run: run.clone(), cause: Cause::Retry });
            }
        }
    }

    /// Records what the engine made of `observed` at `now` (it is pure, so reconciling the same
    /// observation again gives exactly what the driver got — `driven`, when its step completed,
    /// through its plan cache: debug builds check that they agree, status included).
    #[allow(clippy::too_many_arguments)]
    fn record_reconcile(
        &mut self,
        observed: &Observation,
        now: Time,
        driven: Option<&Step>,
        applied: usize,
        persisted: bool,
        fired: &[Fault],
        stale: bool,
    ) -> Result<(), SimError> {
        let run = &observed.run;
        let outcome = run
            .reconcile(&observed.world, now, &self.driver.config)
            .map_err(|source| SimError::Engine { run: run.object_ref(), source })?;
        if let Some(Step { run: driven_run, outcome: driven, .. }) = driven {
            debug_assert_eq!(
                (&driven.actions, &driven.wake, driven.status_changed),
                (&outcome.actions, &outcome.wake, outcome.status_changed),
                "the driver's reconcile (with its plan cache) and the engine's disagree"
            );
            debug_assert!(
                !outcome.status_changed || driven_run.status() == Some(&outcome.status),
                "the driver's status (with its plan cache) and the engine's disagree"
            );
        }
        let mut faults = fired.to_vec();
        if stale {
            faults.push(Fault::StaleObservation);
        }
        self.reconciles.push(transcript::ReconcileRecord {
            at: now,
            run: run.object_ref(),
            placement: run.spec().placement_name.clone(),
            generation: run.metadata().generation(),
            state: run.spec().state.clone(),
            deleting: run.metadata().is_deleting(),
            observed: run.status().cloned(),
            status: outcome.status,
            status_changed: outcome.status_changed,
            actions: outcome.actions,
            applied,
            persisted,
            approvals: observed.world.approval_requests.clone(),
            faults,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::hub::key_ref;
    use super::*;

    /// The seed scenario's cluster-scoped run, 12m30s in: created at 10m, its canary stage now
    /// waits for its approval, a few reconciles after initialization.
    fn seed_run_waiting_for_approval() -> (Simulation, ObjectRef) {
        let scenario: Scenario =
            serde_saphyr::from_str(include_str!("../../examples/scenarios/seed-cluster.yaml")).expect("parses");
        let mut sim = Simulation::from_scenario(&scenario).expect("loads");
        sim.run_until(Time::from_unix_seconds(sim.now().unix_seconds() + 750)).expect("runs");
        (sim, ObjectRef::new("ClusterStagedUpdateRun", "", "example-run"))
    }

    /// The simulated controller is a `Driver`: it keeps a warm plan per run while the run
    /// progresses — told the version of every status it writes, so the status it reads back is
    /// checked stage by stage — and drops it once the run is done.
    #[test]
    fn the_driver_keeps_a_plan_per_run_in_progress_and_drops_it_when_the_run_is_done() {
        let (mut sim, run) = seed_run_waiting_for_approval();
        let reused = sim.driver.plans().get(&run).map(|p| (p.is_warm(), p.reused(), p.checks_skipped()));
        // Every reconcile that reused the plan read the status the one before had written (or
        // had found checked and left alone), so checked it stage by stage only.
        assert!(matches!(reused, Some((true, n, m)) if n > 0 && m == n), "{reused:?}");
        sim.run().expect("runs");
        assert_eq!(sim.run_phase("example-run"), RunPhase::Succeeded);
        assert!(sim.driver.plans().is_empty(), "{:?}", sim.driver);
    }

    /// The run a step leaves behind is served as the next observation only while it is known to
    /// be the stored run: after the hub was handed out by hand, it is copied over again.
    #[test]
    fn the_last_steps_run_is_not_trusted_after_the_hub_was_handed_out() {
        let (mut sim, run) = seed_run_waiting_for_approval();
        assert!(sim.spare_run.as_ref().is_some_and(|s| s.as_stored), "the last step's run is the stored one");
        let served = sim.hub.observation_over(&run, sim.spare_run.clone()).expect("observed").run;
        assert_eq!(served, sim.hub.runs[&key_ref(&run)]);

        // An edit by hand that keeps the resourceVersion (as no API server would).
        let stored = sim.fleet().runs.get_mut(&key_ref(&run)).expect("stored");
        let mut status = stored.status().cloned().expect("status");
        status.conditions[0].message.push_str(" (edited by hand)");
        stored.set_status(status);
        assert!(sim.spare_run.as_ref().is_some_and(|s| !s.as_stored));
        let served = sim.hub.observation_over(&run, sim.spare_run.take()).expect("observed").run;
        assert_eq!(served, sim.hub.runs[&key_ref(&run)], "the stored run, not the last step's");
    }
}
