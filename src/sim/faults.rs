//! Faults injected at the [`Fleet`] boundary, and the fleet wrapper that injects them: planned
//! ones ([`FaultPlan`]) and seeded random ones ([`RandomFaults`]).

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::action::{Action, ObjectRef};
use crate::api::{Duration, Time};
use crate::driver::{Applied, Fleet, FleetError, Observation, UpdateRun};

use super::clock::SplitMix64;
use super::hub::{Hub, SpareRun};

/// A fault injected at the [`Fleet`] boundary, to show that every failure leaves a run
/// recoverable. Serialized in kebab-case (`fail-action`), as [`RandomFaults::kinds`] lists them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Fault {
    /// An action fails (`FleetError::Other`) without being carried out.
    FailAction,
    /// The status write fails (`FleetError::Other`) after every action was applied.
    FailStatusWrite,
    /// The status write is rejected as a conflict.
    ConflictStatusWrite,
    /// The controller crashes after applying the actions, before writing the status; it
    /// restarts [`Settings::retry_after`](super::Settings::retry_after) later and resyncs every run.
    CrashBeforeStatusWrite,
    /// The reconcile observes the hub as it was at the run's previous reconcile (a lagging
    /// informer cache). When no previous observation was kept — the run's first reconcile, or a
    /// fault injected after the previous one — it fires at the reconcile after.
    StaleObservation,
    /// An action is acknowledged but never carried out (a write lost on the way, or undone by
    /// the hub). Unlike every other fault this one lies to the controller: the run may fail
    /// (safely) where the hub no longer shows what its status claims.
    LoseAction,
    /// An action is carried out but its answer is lost: the fleet reports an error.
    LoseResponse,
    /// An action is delivered twice (a client retry after a lost answer); the second delivery's
    /// answer is ignored.
    DuplicateAction,
    /// An action is applied after the one that follows it (or after the reconcile's last
    /// action), and reported as carried out at once.
    ReorderActions,
    /// The controller restarts after the reconcile: it forgets its timers and missed watch
    /// events and resumes [`Settings::retry_after`](super::Settings::retry_after) later from
    /// what the hub persisted alone.
    Restart,
}

impl Fault {
    /// Every fault kind.
    pub const ALL: [Fault; 10] = [
        Fault::FailAction,
        Fault::FailStatusWrite,
        Fault::ConflictStatusWrite,
        Fault::CrashBeforeStatusWrite,
        Fault::StaleObservation,
        Fault::LoseAction,
        Fault::LoseResponse,
        Fault::DuplicateAction,
        Fault::ReorderActions,
        Fault::Restart,
    ];

    /// The faults a [`Fleet`] that keeps its contract can show: all but [`Fault::LoseAction`]
    /// (an acknowledged write that never happened) and [`Fault::ReorderActions`] (actions
    /// applied out of order). Under these the engine must not only stay safe but finish.
    pub const HONEST: [Fault; 8] = [
        Fault::FailAction,
        Fault::FailStatusWrite,
        Fault::ConflictStatusWrite,
        Fault::CrashBeforeStatusWrite,
        Fault::StaleObservation,
        Fault::LoseResponse,
        Fault::DuplicateAction,
        Fault::Restart,
    ];

    /// Whether the fault hits the status write.
    fn is_status_fault(&self) -> bool {
        matches!(self, Fault::FailStatusWrite | Fault::ConflictStatusWrite | Fault::CrashBeforeStatusWrite)
    }

    /// What the transcript says when this fault fires.
    pub fn describe(&self) -> &'static str {
        match self {
            Fault::FailAction => "an action failed",
            Fault::FailStatusWrite => "the status write failed",
            Fault::ConflictStatusWrite => "the status write conflicted",
            Fault::CrashBeforeStatusWrite => "the controller crashed before writing the status",
            Fault::StaleObservation => "stale observation",
            Fault::LoseAction => "an action was acknowledged but lost",
            Fault::LoseResponse => "an action was applied but its answer was lost",
            Fault::DuplicateAction => "an action was delivered twice",
            Fault::ReorderActions => "an action was applied after the next one",
            Fault::Restart => "the controller restarted",
        }
    }
}

/// Seeded random faults: at every reconcile, with probability `perMille`/1000, one fault drawn
/// from `kinds` hits it; `clockJitter` moves the engine's `now` ahead of the hub's clock by a
/// seeded amount that never makes it go backwards. The same seed gives the same faults on every
/// machine (a SplitMix64 generator; nothing else in the simulator is random).
///
/// ```yaml
/// settings:
///   faults: {seed: 42, perMille: 200, kinds: [fail-action, stale-observation, restart], max: 5, clockJitter: 3s}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RandomFaults {
    /// The seed.
    pub seed: u64,
    /// The chance, per reconcile, that a fault is injected, in thousandths (default 100).
    #[serde(default = "default_per_mille")]
    pub per_mille: u16,
    /// The faults to draw from (default: [`Fault::HONEST`]).
    #[serde(default = "default_kinds")]
    pub kinds: Vec<Fault>,
    /// At most this many faults in the whole simulation (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// The most the engine's `now` runs ahead of the hub's clock (default: none). Per run and
    /// across runs the controller's clock never goes backwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_jitter: Option<Duration>,
}

fn default_per_mille() -> u16 {
    100
}

fn default_kinds() -> Vec<Fault> {
    Fault::HONEST.to_vec()
}

impl RandomFaults {
    /// `per_mille` chances of any honest fault, seeded with `seed`, no limit, no jitter.
    pub fn new(seed: u64, per_mille: u16) -> RandomFaults {
        RandomFaults { seed, per_mille, kinds: default_kinds(), max: None, clock_jitter: None }
    }
}

/// A random fault drawn for one reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Drawn {
    pub(crate) fault: Fault,
    /// The index of the action it hits (action faults).
    pub(crate) action: usize,
}

/// The random fault source of a simulation.
#[derive(Clone, Debug)]
pub(crate) struct Chaos {
    pub(crate) config: RandomFaults,
    rng: SplitMix64,
    pub(crate) fired: u32,
    /// The controller's clock: never goes backwards.
    clock: Option<Time>,
}

impl Chaos {
    pub(crate) fn new(config: RandomFaults) -> Chaos {
        let rng = SplitMix64::new(config.seed);
        Chaos { config, rng, fired: 0, clock: None }
    }

    /// The fault for the next reconcile, if one is drawn.
    pub(crate) fn draw(&mut self) -> Option<Drawn> {
        // Always draw the same number of values, so one decision does not shift the others.
        let roll = self.rng.next_u64() % 1000;
        let kind = self.rng.next_u64();
        let action = (self.rng.next_u64() % 4) as usize;
        let budget = self.config.max.is_none_or(|m| self.fired < m);
        if !budget || self.config.kinds.is_empty() || roll >= u64::from(self.config.per_mille) {
            return None;
        }
        let fault = self.config.kinds[(kind % self.config.kinds.len() as u64) as usize].clone();
        Some(Drawn { fault, action })
    }

    /// The engine's `now` for a reconcile at hub time `now`.
    pub(crate) fn now(&mut self, now: Time) -> Time {
        let jitter = self.config.clock_jitter.map_or(0, |j| j.as_secs_ceil().max(0));
        let ahead = if jitter > 0 { self.rng.in_range(0, jitter) } else { 0 };
        let t = now.add_ceil(Duration::from_secs(ahead)).max(self.clock.unwrap_or(now));
        self.clock = Some(t);
        t
    }
}

/// When a [`Fault`] fires, for the run it names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultWhen {
    /// The run's n-th reconcile (1-based). [`Fault::FailAction`] fails its first action.
    Reconcile(u32),
    /// The first reconcile of the run that applies an action of this name
    /// ([`Action::name`](crate::Action::name), such as `update-binding`):
    /// [`Fault::FailAction`] fails that action; status faults hit that reconcile's status write;
    /// [`Fault::StaleObservation`] hits the run's *next* reconcile, which sees the hub as it was
    /// before that action.
    Action(String),
}

/// A fault for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// The run's name.
    pub run: String,
    /// When.
    pub when: FaultWhen,
    /// What.
    pub fault: Fault,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FaultState {
    Armed,
    /// A stale observation is due at the run's next reconcile.
    StaleNext,
    Done,
}

#[derive(Clone, Debug)]
pub(crate) struct ArmedFault {
    pub(crate) plan: FaultPlan,
    pub(crate) state: FaultState,
}

/// The [`Fleet`] the simulation hands the driver: the hub, plus the fault armed for this
/// reconcile.
pub(crate) struct SimFleet<'a> {
    pub(crate) hub: &'a mut Hub,
    pub(crate) fault: Option<&'a mut ArmedFault>,
    /// A random fault drawn for this reconcile.
    pub(crate) drawn: Option<Drawn>,
    pub(crate) nth: u32,
    /// Served instead of a fresh observation.
    pub(crate) stale: Option<Observation>,
    /// The fresh observation taken, for a later stale one (kept only when one may be served).
    pub(crate) fresh: Option<Observation>,
    /// The observation the driver was served (kept only when reconciles are recorded).
    pub(crate) served: Option<Observation>,
    keep: Keep,
    pub(crate) fired: Vec<Fault>,
    /// How many actions the driver was told were carried out.
    pub(crate) applied: usize,
    /// Whether the status write went through.
    pub(crate) persisted: bool,
    /// An action held back by [`Fault::ReorderActions`], applied after the next one.
    pub(crate) deferred: Option<Action>,
    actions_seen: usize,
    /// A run the simulation is done with, reused by the observation.
    pub(crate) spare: Option<SpareRun>,
}

/// Which observations a [`SimFleet`] keeps copies of after serving them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Keep {
    /// The fresh observation, because a stale-observation fault may serve it later.
    pub(crate) fresh: bool,
    /// The served observation, because the reconcile is recorded.
    pub(crate) served: bool,
}

impl<'a> SimFleet<'a> {
    pub(crate) fn new(
        hub: &'a mut Hub,
        fault: Option<&'a mut ArmedFault>,
        drawn: Option<Drawn>,
        nth: u32,
        stale: Option<Observation>,
        keep: Keep,
    ) -> SimFleet<'a> {
        SimFleet {
            hub,
            fault,
            drawn,
            nth,
            stale,
            fresh: None,
            served: None,
            keep,
            fired: Vec::new(),
            applied: 0,
            persisted: false,
            deferred: None,
            actions_seen: 0,
            spare: None,
        }
    }

    fn observe_now(&mut self, run: &ObjectRef) -> Result<Observation, FleetError> {
        let fresh =
            self.hub.observation_over(run, self.spare.take()).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
        self.hub.begin_reconcile(run);
        // Copying a whole observation costs as much as the engine's step: only when it is used.
        if self.keep.fresh {
            self.fresh = Some(fresh.clone());
        }
        let served = self.stale.take().unwrap_or(fresh);
        if self.keep.served {
            self.served = Some(served.clone());
        }
        Ok(served)
    }

    /// Applies an action held back by [`Fault::ReorderActions`]; its outcome is lost with it.
    pub(crate) fn flush_deferred(&mut self) {
        if let Some(action) = self.deferred.take() {
            let _ = self.apply_checked(&action);
        }
    }

    fn apply_now(&mut self, action: &Action) -> Result<Applied, FleetError> {
        let index = self.actions_seen;
        self.actions_seen += 1;
        let result = self.apply_faulty(action, index);
        self.flush_deferred_after(index);
        if result.is_ok() {
            self.applied += 1;
        }
        result
    }

    /// A deferred action goes in right after the action that followed it.
    fn flush_deferred_after(&mut self, index: usize) {
        if self.drawn.as_ref().is_some_and(|d| d.fault == Fault::ReorderActions && d.action < index) {
            self.flush_deferred();
        }
    }

    fn apply_faulty(&mut self, action: &Action, index: usize) -> Result<Applied, FleetError> {
        if let Some(d) = self.drawn.as_ref().filter(|d| d.action == index) {
            let fault = d.fault.clone();
            match fault {
                Fault::FailAction => {
                    self.fired.push(fault);
                    return Err(FleetError::Other(format!("injected fault: {} failed", action.name())));
                }
                Fault::LoseAction => {
                    self.fired.push(fault);
                    return Ok(Applied::done());
                }
                Fault::LoseResponse => {
                    self.fired.push(fault);
                    let _ = self.apply_checked(action);
                    return Err(FleetError::Other(format!("injected fault: the answer to {} was lost", action.name())));
                }
                Fault::DuplicateAction => {
                    self.fired.push(fault);
                    let first = self.apply_checked(action);
                    let _ = self.apply_checked(action);
                    return first;
                }
                Fault::ReorderActions => {
                    self.fired.push(fault);
                    self.deferred = Some(action.clone());
                    return Ok(Applied::done());
                }
                _ => {}
            }
        }
        if let Some(f) = self.fault.as_deref_mut().filter(|f| f.state == FaultState::Armed) {
            let hit = match &f.plan.when {
                FaultWhen::Reconcile(n) => *n == self.nth,
                FaultWhen::Action(name) => name == action.name(),
            };
            if hit && f.plan.fault == Fault::FailAction {
                f.state = FaultState::Done;
                self.fired.push(Fault::FailAction);
                return Err(FleetError::Other(format!("injected fault: {} failed", action.name())));
            }
            if hit && f.plan.fault == Fault::StaleObservation {
                let result = self.apply_checked(action);
                if result.is_ok()
                    && let Some(f) = self.fault.as_deref_mut()
                {
                    f.state = FaultState::StaleNext;
                }
                return result;
            }
            if hit && matches!(f.plan.when, FaultWhen::Action(_)) {
                // A status fault armed by this action hits this reconcile's status write.
                f.plan.when = FaultWhen::Reconcile(self.nth);
            }
        }
        self.apply_checked(action)
    }

    /// Carries out an action as the API server would (the hub conflicts a finalizer update made
    /// from a stale observation, as it does a binding update).
    fn apply_checked(&mut self, action: &Action) -> Result<Applied, FleetError> {
        self.hub.apply_action(action)
    }

    fn write_now(&mut self, run: &UpdateRun) -> Result<Applied, FleetError> {
        self.flush_deferred();
        let drawn = self.drawn.as_ref().map(|d| d.fault.clone()).filter(Fault::is_status_fault);
        let planned = self.fault.as_deref_mut().filter(|f| {
            f.state == FaultState::Armed
                && f.plan.when == FaultWhen::Reconcile(self.nth)
                && f.plan.fault.is_status_fault()
        });
        let fault = match (drawn, planned) {
            (Some(fault), _) => fault,
            (None, Some(f)) => {
                f.state = FaultState::Done;
                f.plan.fault.clone()
            }
            (None, None) => {
                let written = self.hub.write_run_status(run)?;
                self.persisted = true;
                return Ok(written);
            }
        };
        // The write never reaches the hub; its events still get their stages.
        if let Some(status) = run.status() {
            self.hub.label_stages(status);
        }
        self.fired.push(fault.clone());
        Err(status_fault(&fault))
    }
}

fn status_fault(fault: &Fault) -> FleetError {
    match fault {
        Fault::ConflictStatusWrite => FleetError::Conflict("injected fault: the run was modified".into()),
        Fault::CrashBeforeStatusWrite => FleetError::Other("injected fault: controller crashed".into()),
        _ => FleetError::Other("injected fault: status write failed".into()),
    }
}

impl Fleet for SimFleet<'_> {
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
        std::future::ready(self.observe_now(run))
    }

    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.apply_now(action))
    }

    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.write_now(run))
    }
}
