//! The driver: [`Fleet`] (the caller's I/O) and [`Driver`] (observe → reconcile → apply →
//! persist → wake), documented on [`Driver`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::action::{Action, ObjectRef};
use crate::api::{
    ClusterStagedUpdateRun, ObjectMeta, Scope, StagedUpdateRun, Time, UpdateRunSpec, UpdateRunStatus, well_known,
};
use crate::config::Config;
use crate::engine::{EngineError, InPlaceOutcome, Outcome, PlanCache, reconcile, reconcile_in_place};
use crate::world::World;

/// A staged update run of either scope: the engine is generic over [`UpdateRunObject`](crate::api::UpdateRunObject), the
/// driver and the simulator hold runs of both kinds side by side.
#[derive(Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UpdateRun {
    /// A `ClusterStagedUpdateRun`.
    Cluster(ClusterStagedUpdateRun),
    /// A `StagedUpdateRun`.
    Namespaced(StagedUpdateRun),
}

impl Clone for UpdateRun {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            UpdateRun::Cluster(run) => UpdateRun::Cluster(run.clone()),
            UpdateRun::Namespaced(run) => UpdateRun::Namespaced(run.clone()),
        }
    }

    /// Copies `source` over `self`, reusing the status's buffers when both are of the same kind.
    #[inline]
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (UpdateRun::Cluster(to), UpdateRun::Cluster(from)) => to.clone_from(from),
            (UpdateRun::Namespaced(to), UpdateRun::Namespaced(from)) => to.clone_from(from),
            (to, from) => *to = from.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for UpdateRun {
    /// Dispatches on `kind` (`ClusterStagedUpdateRun` or `StagedUpdateRun`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(d)?;
        match value.get("kind").and_then(serde_json::Value::as_str) {
            Some(ClusterStagedUpdateRun::KIND) => {
                serde_json::from_value(value).map(UpdateRun::Cluster).map_err(D::Error::custom)
            }
            Some(StagedUpdateRun::KIND) => {
                serde_json::from_value(value).map(UpdateRun::Namespaced).map_err(D::Error::custom)
            }
            other => Err(D::Error::custom(format!(
                "expected kind ClusterStagedUpdateRun or StagedUpdateRun, found {}",
                other.unwrap_or("none")
            ))),
        }
    }
}

impl From<ClusterStagedUpdateRun> for UpdateRun {
    fn from(run: ClusterStagedUpdateRun) -> Self {
        UpdateRun::Cluster(run)
    }
}

impl From<StagedUpdateRun> for UpdateRun {
    fn from(run: StagedUpdateRun) -> Self {
        UpdateRun::Namespaced(run)
    }
}

macro_rules! each {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            UpdateRun::Cluster($r) => $e,
            UpdateRun::Namespaced($r) => $e,
        }
    };
}

impl UpdateRun {
    /// `ClusterStagedUpdateRun` or `StagedUpdateRun`.
    pub fn kind(&self) -> &'static str {
        match self {
            UpdateRun::Cluster(_) => ClusterStagedUpdateRun::KIND,
            UpdateRun::Namespaced(_) => StagedUpdateRun::KIND,
        }
    }

    /// The run's scope.
    pub fn scope(&self) -> Scope {
        match self {
            UpdateRun::Cluster(_) => Scope::Cluster,
            UpdateRun::Namespaced(_) => Scope::Namespaced,
        }
    }

    /// A reference to the run (kind, namespace, name).
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new(self.kind(), self.metadata().namespace(), self.metadata().name())
    }

    /// The metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        each!(self, r => &r.metadata)
    }

    /// The metadata, mutably.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each!(self, r => &mut r.metadata)
    }

    /// The spec.
    pub fn spec(&self) -> &UpdateRunSpec {
        each!(self, r => &r.spec)
    }

    /// The spec, mutably. (Writing it on a hub bumps the run's generation.)
    pub fn spec_mut(&mut self) -> &mut UpdateRunSpec {
        each!(self, r => &mut r.spec)
    }

    /// The status, if one was written.
    pub fn status(&self) -> Option<&UpdateRunStatus> {
        each!(self, r => r.status.as_ref())
    }

    /// Replaces the status.
    pub fn set_status(&mut self, status: UpdateRunStatus) {
        each!(self, r => r.status = Some(status))
    }

    /// Replaces the status with a copy of `status`, reusing the replaced status's buffers.
    pub(crate) fn copy_status_from(&mut self, status: &UpdateRunStatus) {
        each!(self, r => match &mut r.status {
            Some(to) => to.clone_from(status),
            slot => *slot = Some(status.clone()),
        })
    }

    /// [`reconcile`](crate::reconcile) for whichever kind this is.
    pub fn reconcile(&self, world: &World, now: Time, config: &Config) -> Result<Outcome, EngineError> {
        each!(self, r => reconcile(r, world, now, config))
    }

    /// [`reconcile_in_place`](crate::reconcile_in_place) for whichever kind this is.
    pub fn reconcile_in_place(
        &mut self,
        world: &World,
        now: Time,
        config: &Config,
    ) -> Result<InPlaceOutcome, EngineError> {
        each!(self, r => reconcile_in_place(r, world, now, config))
    }

    /// [`PlanCache::reconcile_in_place`] for whichever kind this is.
    pub fn reconcile_cached(
        &mut self,
        cache: &mut PlanCache,
        world: &World,
        now: Time,
        config: &Config,
    ) -> Result<InPlaceOutcome, EngineError> {
        each!(self, r => cache.reconcile_in_place(r, world, now, config))
    }
}

/// What [`Fleet::observe`] returns: the run as stored (with its `resourceVersion`) and the hub
/// around it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The run, as last persisted.
    pub run: UpdateRun,
    /// What the hub looks like for this run.
    pub world: World,
}

/// What a [`Fleet`] reports after carrying out an action or writing a status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// The new `resourceVersion` of the object written, when the fleet knows it (an API server
    /// answers every write with it). The driver needs it after [`Action::AddFinalizer`] /
    /// [`Action::RemoveFinalizer`]: those write the run itself, and the status write that
    /// follows must carry the run's new version. After [`Fleet::write_status`] it tells the
    /// run's [`PlanCache`] which version holds the status it produced
    /// ([`PlanCache::persisted`]), so the next reconcile need not re-check it cluster by cluster.
    pub resource_version: Option<String>,
}

impl Applied {
    /// Nothing to report.
    pub fn done() -> Applied {
        Applied::default()
    }

    /// The written object's new `resourceVersion`.
    pub fn with_resource_version(resource_version: impl Into<String>) -> Applied {
        Applied { resource_version: Some(resource_version.into()) }
    }
}

/// A failed call to the caller's hub, typed the way an API server answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The write was based on an outdated `resourceVersion` (HTTP 409), or the object to create
    /// already exists (also a 409). Observe again and retry.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object does not exist (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// Anything else: a timeout, a refused connection, an admission webhook, an injected fault.
    #[error("{0}")]
    Other(String),
}

/// The caller's hub: how the driver reads the world and writes back.
///
/// Each method returns a `Send` future so that [`Driver::step`] can run inside an async
/// controller (kube-rs runs reconcilers on a multi-threaded runtime); implementations that answer
/// synchronously return [`std::future::ready`]. Implementations must:
///
/// * [`observe`](Fleet::observe): list what a [`World`] holds for the run — the engine selects
///   by KubeFleet's labels, so a superset is fine — and return the run with its
///   `resourceVersion`. Member clusters and bindings are shared `Arc`s: hand out the ones your
///   cache holds rather than copies (the driver's [`PlanCache`] then recognises the unchanged
///   ones by address). A missing run is [`FleetError::NotFound`].
/// * [`apply`](Fleet::apply): carry out one [`Action`] exactly as its documentation says. Treat
///   deleting an object that is already gone as success (KubeFleet ignores NotFound there);
///   reject [`Action::UpdateBinding`], [`Action::AddFinalizer`] and [`Action::RemoveFinalizer`]
///   whose `resource_version` is outdated, and
///   [`Action::CreateApprovalRequest`] for an existing name, with [`FleetError::Conflict`].
/// * [`write_status`](Fleet::write_status): replace the run's status (the status subresource)
///   if and only if the stored `resourceVersion` equals the one in `run.metadata`, else
///   [`FleetError::Conflict`]; answer with the run's new `resourceVersion`
///   ([`Applied::with_resource_version`]) when you know it, [`Applied::done`] otherwise. A
///   version must change with every write of the run (Kubernetes guarantees it): the driver
///   takes a run read at the version it wrote for the status it wrote.
pub trait Fleet {
    /// Reads the run named by `run` and the world around it.
    fn observe(&mut self, run: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send;

    /// Carries out one action.
    fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send;

    /// Persists `run.status()`, guarded by `run.metadata().resource_version`; answers with the
    /// run's new `resourceVersion` when it knows it.
    fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send;
}

/// Why a [`Driver::step`] did not complete. The run is left recoverable in every case: call
/// [`Driver::step`] again (after a backoff) and it converges.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Reading the run or its world failed; nothing was done.
    #[error("observing {run}: {source}")]
    Observe {
        /// The run.
        run: ObjectRef,
        /// The fleet's answer.
        source: FleetError,
    },
    /// The engine rejected the observation as inconsistent (see [`EngineError`]); nothing was
    /// done.
    #[error("reconciling {run}: {source}")]
    Engine {
        /// The run.
        run: ObjectRef,
        /// The engine's answer.
        source: EngineError,
    },
    /// An action failed. The actions before it were applied, the ones after it were not, and the
    /// status was not persisted.
    #[error("{run}: action {index} ({name}) failed: {source}", name = action.name())]
    Action {
        /// The run.
        run: ObjectRef,
        /// The position of the failed action in [`Outcome::actions`]; that many were applied.
        index: usize,
        /// The failed action.
        action: Box<Action>,
        /// The fleet's answer.
        source: FleetError,
    },
    /// Every action was applied but the status write failed (a [`FleetError::Conflict`] when the
    /// observation was stale).
    #[error("writing the status of {run}: {source}")]
    Status {
        /// The run.
        run: ObjectRef,
        /// The fleet's answer.
        source: FleetError,
    },
    /// [`Driver::drive`] made `steps` reconciles without the run becoming idle.
    #[error("{run}: still not idle after {steps} reconciles")]
    StepLimit {
        /// The run.
        run: ObjectRef,
        /// How many reconciles were made.
        steps: usize,
    },
}

impl DriverError {
    /// The run the error is about.
    pub fn run(&self) -> &ObjectRef {
        match self {
            DriverError::Observe { run, .. }
            | DriverError::Engine { run, .. }
            | DriverError::Action { run, .. }
            | DriverError::Status { run, .. }
            | DriverError::StepLimit { run, .. } => run,
        }
    }

    /// The fleet's error, when the fleet failed.
    pub fn fleet_error(&self) -> Option<&FleetError> {
        match self {
            DriverError::Observe { source, .. }
            | DriverError::Action { source, .. }
            | DriverError::Status { source, .. } => Some(source),
            DriverError::Engine { .. } | DriverError::StepLimit { .. } => None,
        }
    }
}

/// What one completed [`Driver::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The run, as it stands after the step (new status, finalizers and `resourceVersion` as far
    /// as the driver knows them). When the status was not written, its status is the engine's
    /// working copy, which may carry normalizations the stored run does not have yet (see
    /// [`reconcile_in_place`](crate::reconcile_in_place)) — unless
    /// [`InPlaceOutcome::status_modified`] is false; read the run again for what is stored.
    pub run: UpdateRun,
    /// The engine's outcome: whether the status changed, the actions (all applied) and the wake.
    /// The new status is [`run`](Step::run)'s.
    pub outcome: InPlaceOutcome,
    /// Whether the status was written (it is written only when it changed).
    pub status_written: bool,
}

/// A source of time for [`Driver::drive`]: a wall clock and a sleep, or a virtual clock.
pub trait Clock {
    /// The current time (it must not go backwards).
    fn now(&mut self) -> Time;

    /// Completes at `deadline` (immediately when it has passed).
    fn sleep_until(&mut self, deadline: Time) -> impl Future<Output = ()> + Send;
}

/// Runs reconciles of runs against a [`Fleet`] with one engine [`Config`].
///
/// [`reconcile`](crate::reconcile) is pure. Something has to read the hub, carry out the
/// [`Action`]s and persist the status; that something is a [`Fleet`] — the caller's I/O (a kube-rs
/// client, a database, a test double, or the [simulator](crate::sim)). [`Driver::step`] runs the
/// sequence every caller needs and gets subtly wrong when writing it by hand:
///
/// 1. **observe** the run and its [`World`];
/// 2. **reconcile**;
/// 3. **apply** the actions in order, stopping at the first failure — the status is then *not*
///    persisted, so the run never claims progress the hub does not show;
/// 4. **persist** the status, only when it changed, with optimistic concurrency: the write carries
///    the `resourceVersion` observed in step 1 (or returned by an action that wrote the run, such
///    as adding the finalizer), so a status computed from a stale observation is rejected with
///    [`FleetError::Conflict`] instead of overwriting newer progress;
/// 5. return the [`Wake`](crate::Wake): the caller honours it — a simulator jumps its clock, a
///    kube-rs controller maps it with [`Wake::requeue_after`](crate::Wake::requeue_after).
///
/// Errors are surfaced as [`DriverError`], never swallowed. Every failure leaves the run
/// recoverable: the engine is idempotent, so the next reconcile re-derives exactly the actions
/// still needed (an action that did go through is not repeated, because the hub shows it).
///
/// The trait is async without depending on a runtime: its methods return `impl Future + Send`, so
/// a kube-rs reconciler can `.await` [`Driver::step`] on tokio, and the simulator, whose futures
/// are always ready, polls them once with a no-op waker.
///
/// A driver keeps a [`PlanCache`] per run it reconciles, so a step at fleet scale does not
/// re-plan the stages when the world still gives the same plan, nor re-check cluster by cluster
/// a status read at the `resourceVersion` its own write was answered with (the outcome is the
/// same either way). A cache holds a reference to each member cluster of the world its run was
/// last reconciled against, and a weak one to each binding (with what planning reads of it),
/// until the next reconcile of that run replaces them; it is dropped when a step leaves the run
/// idle ([`Wake::is_idle`](crate::Wake::is_idle): finished, failed, stopped, deleted) or finds
/// it gone, and by [`Driver::forget`] (for a run your controller stops reconciling otherwise). A clone of a driver starts with no caches.
/// Share one driver between the reconciles of all runs (`Driver` is `Sync`; the caches are
/// locked only to take one out and put it back, never across an `.await`).
#[derive(Debug, Default)]
pub struct Driver {
    /// The engine configuration passed to every reconcile.
    pub config: Config,
    plans: Mutex<BTreeMap<ObjectRef, PlanCache>>,
}

impl Clone for Driver {
    fn clone(&self) -> Driver {
        Driver::new(self.config.clone())
    }
}

/// Drivers are equal when their configurations are: the caches change costs, never outcomes.
impl PartialEq for Driver {
    fn eq(&self, other: &Driver) -> bool {
        self.config == other.config
    }
}

impl Eq for Driver {}

impl Driver {
    /// A driver for `config`.
    pub fn new(config: Config) -> Driver {
        Driver { config, plans: Mutex::default() }
    }

    /// One reconcile of `run` at `now`: observe, reconcile, apply the actions in order, persist
    /// the status if it changed. See [`Driver`] for the exact contract.
    pub async fn step<F: Fleet>(&self, fleet: &mut F, run: &ObjectRef, now: Time) -> Result<Step, DriverError> {
        let observed = fleet.observe(run).await;
        if let Err(FleetError::NotFound(_)) = observed {
            self.plans().remove(run);
        }
        let Observation { run: mut object, world } =
            observed.map_err(|source| DriverError::Observe { run: run.clone(), source })?;
        // The observation is the driver's own copy: reconcile it in place, no status copy.
        let mut plan = self.plans().remove(run).unwrap_or_default();
        let outcome = object
            .reconcile_cached(&mut plan, &world, now, &self.config)
            .map_err(|source| DriverError::Engine { run: run.clone(), source })?;
        // Released before the actions, and so is the plan cache of an idle run: a fleet that
        // shares its objects with the observation (`Arc`s) and writes them in place then copies
        // only the member clusters a live plan cache holds (of bindings it holds weak
        // references, which `Arc::make_mut` moves away from instead of copying).
        drop(world);
        let live = (!outcome.wake.is_idle()).then_some(plan);
        let carried = carry_out(fleet, run, &mut object, &outcome).await;
        // Kept whether or not the actions and the write went through: the plan still holds.
        if let Some(mut plan) = live {
            if let Ok(Some(version)) = &carried {
                plan.persisted(version);
            }
            self.plans().insert(run.clone(), plan);
        }
        carried?;
        let status_written = outcome.status_changed;
        Ok(Step { run: object, outcome, status_written })
    }

    /// Drops the plan cache of `run`. Call it when your controller stops reconciling a run
    /// without a last step that finds it idle or gone — it was deleted while no reconcile ran,
    /// or another replica took it over — so that the cache does not keep its world's member
    /// clusters alive, nor the copy of what planning read of its bindings and their allocations.
    pub fn forget(&self, run: &ObjectRef) {
        self.plans().remove(run);
    }

    /// Drops every plan cache (what a controller restart loses).
    pub fn forget_all(&self) {
        self.plans().clear();
    }

    /// The plan caches, whether or not a reconcile panicked while holding them (a cache is
    /// only ever replaced whole, so a poisoned one is still consistent).
    pub(crate) fn plans(&self) -> std::sync::MutexGuard<'_, BTreeMap<ObjectRef, PlanCache>> {
        self.plans.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reconciles `run` until it is idle ([`Wake::is_idle`](crate::Wake::is_idle)), sleeping on
    /// `clock` until [`Wake::next_call`](crate::Wake::next_call) between reconciles — the loop of a
    /// controller without watches, which therefore honours KubeFleet's polling intervals. Returns
    /// the last step; the first error ends the loop and is returned. At most `max_steps`
    /// reconciles are made ([`DriverError::StepLimit`]).
    pub async fn drive<F: Fleet, C: Clock>(
        &self,
        fleet: &mut F,
        clock: &mut C,
        run: &ObjectRef,
        max_steps: usize,
    ) -> Result<Step, DriverError> {
        for _ in 0..max_steps {
            let now = clock.now();
            let step = self.step(fleet, run, now).await?;
            match step.outcome.wake.next_call(now) {
                Some(at) if !step.outcome.wake.is_idle() => clock.sleep_until(at).await,
                _ => return Ok(step),
            }
        }
        Err(DriverError::StepLimit { run: run.clone(), steps: max_steps })
    }
}

/// Applies `outcome`'s actions in order and writes the status when it changed, keeping `object`
/// (the driver's copy of the run) in step; returns the run's new `resourceVersion` when the
/// status was written and the fleet told it.
async fn carry_out<F: Fleet>(
    fleet: &mut F,
    run: &ObjectRef,
    object: &mut UpdateRun,
    outcome: &InPlaceOutcome,
) -> Result<Option<String>, DriverError> {
    for (index, action) in outcome.actions.iter().enumerate() {
        let applied = fleet.apply(action).await.map_err(|source| DriverError::Action {
            run: run.clone(),
            index,
            action: Box::new(action.clone()),
            source,
        })?;
        note_run_write(object, run, action, applied);
    }
    if !outcome.status_changed {
        return Ok(None);
    }
    let written =
        fleet.write_status(object).await.map_err(|source| DriverError::Status { run: run.clone(), source })?;
    let version = written.resource_version;
    if let Some(version) = &version {
        object.metadata_mut().resource_version = Some(version.clone());
    }
    Ok(version)
}

/// Keeps the driver's copy of the run in step with an action that wrote the run itself, so the
/// status write that follows carries the run's current `resourceVersion`.
fn note_run_write(object: &mut UpdateRun, run: &ObjectRef, action: &Action, applied: Applied) {
    let finalizer = well_known::UPDATE_RUN_FINALIZER;
    let meta = object.metadata_mut();
    match action {
        Action::AddFinalizer { run: target, .. } if target == run => {
            let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
            if !finalizers.iter().any(|f| f == finalizer) {
                finalizers.push(finalizer.to_owned());
            }
        }
        Action::RemoveFinalizer { run: target, .. } if target == run => {
            if let Some(finalizers) = meta.finalizers.as_mut() {
                finalizers.retain(|f| f != finalizer);
            }
        }
        _ => return,
    }
    if let Some(rv) = applied.resource_version {
        meta.resource_version = Some(rv);
    }
}

/// Runs a future that never waits — one whose every `.await` is immediately ready, such as the
/// simulator's [`Fleet`] methods — to completion on the current thread, without a runtime.
///
/// # Panics
///
/// If the future is not ready when first polled: it would wait for a wake-up that a no-op waker
/// never delivers.
pub fn block_on_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("block_on_ready: the future is waiting for I/O; use an async runtime"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ObjectMeta, State, UpdateRunSpec};

    /// A fleet that holds one run and nothing else: enough for the driver's own bookkeeping.
    struct OneRun {
        run: UpdateRun,
        version: u64,
        writes: usize,
    }

    impl Fleet for OneRun {
        fn observe(&mut self, _: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
            std::future::ready(Ok(Observation { run: self.run.clone(), world: World::default() }))
        }

        fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
            let result = match action {
                Action::AddFinalizer { .. } => {
                    self.version += 1;
                    let meta = self.run.metadata_mut();
                    meta.finalizers.get_or_insert_with(Vec::new).push(well_known::UPDATE_RUN_FINALIZER.into());
                    meta.resource_version = Some(self.version.to_string());
                    Ok(Applied::with_resource_version(self.version.to_string()))
                }
                other => Err(FleetError::Other(format!("unexpected {}", other.name()))),
            };
            std::future::ready(result)
        }

        fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send {
            let result = if run.metadata().resource_version == self.run.metadata().resource_version {
                self.writes += 1;
                self.version += 1;
                self.run.set_status(run.status().cloned().unwrap_or_default());
                self.run.metadata_mut().resource_version = Some(self.version.to_string());
                Ok(Applied::with_resource_version(self.version.to_string()))
            } else {
                Err(FleetError::Conflict("stale".into()))
            };
            std::future::ready(result)
        }
    }

    fn run_without_placement() -> UpdateRun {
        let mut meta = ObjectMeta::named("r");
        meta.generation = Some(1);
        meta.resource_version = Some("1".into());
        let mut spec = UpdateRunSpec::new("p", Some("0"), "s");
        spec.state = Some(State::Run);
        ClusterStagedUpdateRun::new(meta, spec).into()
    }

    #[test]
    fn the_status_write_carries_the_version_of_the_finalizer_write() {
        let mut fleet = OneRun { run: run_without_placement(), version: 1, writes: 0 };
        let driver = Driver::default();
        let run = fleet.run.object_ref();
        let step = block_on_ready(driver.step(&mut fleet, &run, Time::from_unix_seconds(0))).expect("step");
        // Initialization failed (no placement): the finalizer was added, then the status written
        // on top of the finalizer's resourceVersion without a conflict.
        assert!(step.status_written);
        assert_eq!(fleet.writes, 1);
        assert!(fleet.run.metadata().has_finalizer(well_known::UPDATE_RUN_FINALIZER));
        // The step's run carries the version the status write was answered with.
        assert_eq!(step.run.metadata().resource_version.as_deref(), Some("3"));
        assert_eq!(step.run, fleet.run);
        assert!(step.outcome.wake.is_idle());
    }

    #[test]
    fn a_stale_run_version_is_a_conflict_and_surfaces() {
        let mut fleet = OneRun { run: run_without_placement(), version: 5, writes: 0 };
        fleet.run.metadata_mut().finalizers = Some(vec![well_known::UPDATE_RUN_FINALIZER.into()]);
        // The fleet's stored run moved on after the observation the driver will get.
        let stale = fleet.run.clone();
        fleet.run.metadata_mut().resource_version = Some("5".into());
        struct Stale<'a>(&'a mut OneRun, UpdateRun);
        impl Fleet for Stale<'_> {
            fn observe(&mut self, _: &ObjectRef) -> impl Future<Output = Result<Observation, FleetError>> + Send {
                std::future::ready(Ok(Observation { run: self.1.clone(), world: World::default() }))
            }
            fn apply(&mut self, action: &Action) -> impl Future<Output = Result<Applied, FleetError>> + Send {
                self.0.apply(action)
            }
            fn write_status(&mut self, run: &UpdateRun) -> impl Future<Output = Result<Applied, FleetError>> + Send {
                self.0.write_status(run)
            }
        }
        let run = stale.object_ref();
        let err = block_on_ready(Driver::default().step(&mut Stale(&mut fleet, stale), &run, Time::UNIX_EPOCH))
            .expect_err("conflict");
        assert!(matches!(err, DriverError::Status { source: FleetError::Conflict(_), .. }), "{err}");
        assert_eq!(fleet.writes, 0);
    }

    #[test]
    fn update_runs_deserialize_by_kind() {
        let json = serde_json::json!({"apiVersion": crate::api::API_VERSION, "kind": "StagedUpdateRun",
            "metadata": {"name": "r", "namespace": "ns"}, "spec": {"placementName": "p", "stagedRolloutStrategyName": "s"}});
        let run: UpdateRun = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(run.object_ref(), ObjectRef::new("StagedUpdateRun", "ns", "r"));
        assert_eq!(serde_json::to_value(&run).unwrap(), json);
        assert!(serde_json::from_value::<UpdateRun>(serde_json::json!({"kind": "Pod"})).is_err());
    }

    #[test]
    fn fleet_futures_are_send_so_steps_run_on_multithreaded_runtimes() {
        fn assert_send<T: Send>(_: &T) {}
        let mut fleet = OneRun { run: run_without_placement(), version: 1, writes: 0 };
        let driver = Driver::default();
        let run = fleet.run.object_ref();
        let fut = driver.step(&mut fleet, &run, Time::UNIX_EPOCH);
        assert_send(&fut);
        drop(fut);
    }
}
