//! Faults injected at the [`Fleet`] boundary, and the fleet wrapper that injects them.

use std::future::Future;

use crate::action::{Action, ObjectRef};
use crate::driver::{Applied, Fleet, FleetError, Observation, UpdateRun};

use super::hub::Hub;

/// A fault injected at the [`Fleet`] boundary, to show that every failure leaves a run
/// recoverable.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// informer cache).
    StaleObservation,
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
    pub(crate) nth: u32,
    /// Served instead of a fresh observation.
    pub(crate) stale: Option<Observation>,
    /// The fresh observation taken, for a later stale one.
    pub(crate) fresh: Option<Observation>,
    pub(crate) fired: Vec<Fault>,
}

impl SimFleet<'_> {
    fn observe_now(&mut self, run: &ObjectRef) -> Result<Observation, FleetError> {
        let fresh = self.hub.observation(run).ok_or_else(|| FleetError::NotFound(run.to_string()))?;
        self.hub.begin_reconcile(run);
        self.fresh = Some(fresh.clone());
        Ok(self.stale.take().unwrap_or(fresh))
    }

    fn apply_now(&mut self, action: &Action) -> Result<Applied, FleetError> {
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
                let result = self.hub.apply_action(action);
                if result.is_ok() {
                    f.state = FaultState::StaleNext;
                }
                return result;
            }
            if hit && matches!(f.plan.when, FaultWhen::Action(_)) {
                // A status fault armed by this action hits this reconcile's status write.
                f.plan.when = FaultWhen::Reconcile(self.nth);
            }
        }
        self.hub.apply_action(action)
    }

    fn write_now(&mut self, run: &UpdateRun) -> Result<(), FleetError> {
        if let Some(status) = run.status() {
            self.hub.label_stages(status);
        }
        if let Some(f) = self.fault.as_deref_mut().filter(|f| f.state == FaultState::Armed)
            && f.plan.when == FaultWhen::Reconcile(self.nth)
        {
            let error = match f.plan.fault {
                Fault::FailStatusWrite => Some(FleetError::Other("injected fault: status write failed".into())),
                Fault::ConflictStatusWrite => Some(FleetError::Conflict("injected fault: the run was modified".into())),
                Fault::CrashBeforeStatusWrite => Some(FleetError::Other("injected fault: controller crashed".into())),
                _ => None,
            };
            if let Some(error) = error {
                f.state = FaultState::Done;
                self.fired.push(f.plan.fault.clone());
                return Err(error);
            }
        }
        self.hub.write_run_status(run)
    }
}

impl Fleet for SimFleet<'_> {
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
        std::future::ready(self.observe_now(run))
    }

    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
        std::future::ready(self.apply_now(action))
    }

    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<(), FleetError>> + Send {
        std::future::ready(self.write_now(run))
    }
}
