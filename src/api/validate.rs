//! Manifest validation as KubeFleet's CRDs enforce it, before an object reaches the engine.
//!
//! The API server rejects these objects; a tool that handles manifests (a CI check, the
//! simulator, a controller's admission webhook) can reject them the same way, with a typed error
//! that names the object, the field and the offending value.
//!
//! One CRD rule is not checked: the `waitTime` pattern, which allows only `h`, `m` and `s` units
//! (`1ms` is rejected by the API server). A parsed [`Duration`](super::Duration) no longer knows
//! how it was spelled; KubeFleet's controller, which reads Go durations, accepts any unit.

use std::collections::BTreeSet;
use std::fmt;

use super::approval::ApprovalRequestObject;
use super::run::{State, UpdateRunObject};
use super::selector::{self, SelectorError};
use super::strategy::{StageTaskType, UpdateStrategyObject, UpdateStrategySpec};
use super::{GROUP, IntOrString, Kind, ObjectMeta};

/// Which stage names are accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StageNameRule {
    /// Today's CRD: `^[a-z0-9]+$`, at most 63 characters.
    #[default]
    Alphanumeric,
    /// Older KubeFleet, as the seed how-to uses it (`dev-clusters`): a DNS-1123 label — lowercase
    /// alphanumerics and `-`, starting and ending alphanumeric, at most 63 characters.
    Dns1123Label,
}

/// Options of the validation functions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ValidationOptions {
    /// Which stage names are accepted.
    pub stage_names: StageNameRule,
}

/// The most stages a strategy may have.
pub const MAX_STAGES: usize = 31;
/// The most after-stage tasks per stage.
pub const MAX_AFTER_STAGE_TASKS: usize = 2;
/// The most before-stage tasks per stage.
pub const MAX_BEFORE_STAGE_TASKS: usize = 1;

/// What is wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// A required field is empty or absent.
    #[error("Required value")]
    Required,
    /// The `kind` does not match the type it was parsed into.
    #[error("Invalid value: expected kind {expected}")]
    WrongKind {
        /// The kind the type represents.
        expected: &'static str,
    },
    /// The `apiVersion` is not `placement.kubernetes-fleet.io/v1beta1` or `/v1`.
    #[error(
        "Unsupported value: supported values: \"placement.kubernetes-fleet.io/v1beta1\", \"placement.kubernetes-fleet.io/v1\""
    )]
    UnsupportedApiVersion,
    /// A string longer than the schema allows.
    #[error("Too long: may not be more than {max} bytes")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// A list longer than the schema allows.
    #[error("Too many: {count}: must have at most {max} items")]
    TooMany {
        /// The list's length.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A stage name that does not match the stage name rule.
    #[error("Invalid value: {}", match rule {
        StageNameRule::Alphanumeric => "must match '^[a-z0-9]+$' (lowercase letters and digits only)",
        StageNameRule::Dns1123Label => "must be a DNS-1123 label: lowercase alphanumerics or '-', starting and ending with an alphanumeric",
    })]
    InvalidStageName {
        /// The rule in force.
        rule: StageNameRule,
    },
    /// Two stages share a name.
    #[error("Duplicate value: stage names must be unique within a strategy")]
    DuplicateStageName,
    /// Two after-stage tasks of one type.
    #[error("Duplicate value: afterStageTasks cannot have two tasks of the same type")]
    DuplicateTaskType,
    /// A task type other than `TimedWait` and `Approval`.
    #[error("Unsupported value: supported values: \"TimedWait\", \"Approval\"")]
    UnknownTaskType,
    /// A `TimedWait` before a stage.
    #[error("Invalid value: BeforeStageTaskType cannot be TimedWait")]
    TimedWaitBeforeStage,
    /// A `TimedWait` without `waitTime`.
    #[error("Required value: AfterStageTaskType is TimedWait, waitTime is required")]
    TimedWaitWithoutWaitTime,
    /// A `TimedWait` of zero or less (the CRD pattern lets `0s` through; KubeFleet rejects it
    /// when the run initializes).
    #[error("Invalid value: a TimedWait must wait longer than 0s")]
    NonPositiveWaitTime,
    /// An `Approval` with a `waitTime`.
    #[error("Forbidden: AfterStageTaskType is Approval, waitTime is not allowed")]
    ApprovalWithWaitTime,
    /// A `maxConcurrency` that is not an integer ≥ 1 or a percentage from 1% to 100%.
    #[error(
        "Invalid value: maxConcurrency must be an integer >= 1 or a percentage from 1% to 100% (pattern '^(100|[1-9][0-9]?)%$')"
    )]
    InvalidMaxConcurrency,
    /// A stage label selector Kubernetes would not accept.
    #[error("Invalid value: {0}")]
    InvalidLabelSelector(SelectorError),
    /// `spec.state` outside {Initialize, Run, Stop}.
    #[error("Unsupported value: supported values: \"Initialize\", \"Run\", \"Stop\"")]
    UnknownState,
    /// A state change the CRD forbids.
    #[error("Invalid value: invalid state transition: cannot transition from {from} to {to}")]
    ForbiddenStateTransition {
        /// The old state.
        from: &'static str,
        /// The new state.
        to: &'static str,
    },
    /// An immutable field changed.
    #[error("Invalid value: {field_name} is immutable")]
    Immutable {
        /// The field's name as the CRD message gives it.
        field_name: &'static str,
    },
}

/// One rejected field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {field}: {value_part}{kind}", value_part = self.value_part())]
pub struct ValidationError {
    /// The object, as `Kind namespace/name` or `Kind name`.
    pub object: String,
    /// The field path, such as `spec.stages[1].name`.
    pub field: String,
    /// The offending value as written (empty when the value is absent).
    pub value: String,
    /// What is wrong.
    pub kind: ValidationErrorKind,
}

impl ValidationError {
    fn value_part(&self) -> String {
        if self.value.is_empty() { String::new() } else { format!("{:?}: ", self.value) }
    }
}

/// Every rejected field of one object, in field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl ValidationErrors {
    /// The errors.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }
}

struct Collector {
    object: String,
    errors: Vec<ValidationError>,
}

impl Collector {
    fn new(kind: &str, meta: &ObjectMeta) -> Collector {
        let object = match meta.namespace() {
            "" => format!("{kind} {:?}", meta.name()),
            ns => format!("{kind} {:?}", format!("{ns}/{}", meta.name())),
        };
        Collector { object, errors: Vec::new() }
    }

    fn push(&mut self, field: impl Into<String>, value: impl Into<String>, kind: ValidationErrorKind) {
        self.errors.push(ValidationError {
            object: self.object.clone(),
            field: field.into(),
            value: value.into(),
            kind,
        });
    }

    fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(ValidationErrors(self.errors)) }
    }

    fn type_meta<K: Kind>(&mut self, object: &K) {
        let (api_version, kind) = object.type_meta();
        if kind != K::KIND {
            self.push("kind", kind, ValidationErrorKind::WrongKind { expected: K::KIND });
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        if group != GROUP || !matches!(version, "v1beta1" | "v1") {
            self.push("apiVersion", api_version, ValidationErrorKind::UnsupportedApiVersion);
        }
    }
}

/// Validates a `ClusterStagedUpdateStrategy` or `StagedUpdateStrategy`.
pub fn validate_strategy<S: UpdateStrategyObject>(
    strategy: &S,
    options: ValidationOptions,
) -> Result<(), ValidationErrors> {
    let mut c = Collector::new(S::KIND, strategy.metadata());
    c.type_meta(strategy);
    strategy_spec(&mut c, strategy.spec(), options);
    c.finish()
}

/// The schema rules on a strategy's stage list that KubeFleet's engine never checks because the
/// API server enforces them: at most 31 stages, valid and unique names. The engine applies them
/// at initialization, so a strategy the API server would not have stored cannot start a run;
/// `object` names the strategy in the errors.
pub(crate) fn validate_stage_list(
    object: &str,
    spec: &UpdateStrategySpec,
    rule: StageNameRule,
) -> Result<(), ValidationErrors> {
    let mut c = Collector { object: object.to_owned(), errors: Vec::new() };
    stage_list(&mut c, spec, rule);
    c.finish()
}

fn stage_list(c: &mut Collector, spec: &UpdateStrategySpec, rule: StageNameRule) {
    if spec.stages.len() > MAX_STAGES {
        c.push("spec.stages", "", ValidationErrorKind::TooMany { count: spec.stages.len(), max: MAX_STAGES });
    }
    let mut seen = BTreeSet::new();
    for (i, stage) in spec.stages.iter().enumerate() {
        let field = format!("spec.stages[{i}].name");
        stage_name(c, &field, &stage.name, rule);
        if !seen.insert(stage.name.as_str()) {
            c.push(field, &stage.name, ValidationErrorKind::DuplicateStageName);
        }
    }
}

fn strategy_spec(c: &mut Collector, spec: &UpdateStrategySpec, options: ValidationOptions) {
    stage_list(c, spec, options.stage_names);
    for (i, stage) in spec.stages.iter().enumerate() {
        let path = format!("spec.stages[{i}]");
        if let Some(sel) = &stage.label_selector
            && let Err(e) = sel.to_selector()
        {
            c.push(format!("{path}.labelSelector"), "", ValidationErrorKind::InvalidLabelSelector(e));
        }
        if let Some(mc) = &stage.max_concurrency
            && !max_concurrency_ok(mc)
        {
            c.push(format!("{path}.maxConcurrency"), mc.to_string(), ValidationErrorKind::InvalidMaxConcurrency);
        }
        tasks(c, &format!("{path}.afterStageTasks"), &stage.after_stage_tasks, false);
        tasks(c, &format!("{path}.beforeStageTasks"), &stage.before_stage_tasks, true);
    }
}

fn stage_name(c: &mut Collector, field: &str, name: &str, rule: StageNameRule) {
    if name.is_empty() {
        c.push(field, "", ValidationErrorKind::Required);
        return;
    }
    if name.len() > 63 {
        c.push(field, name, ValidationErrorKind::TooLong { max: 63 });
    }
    let ok = match rule {
        StageNameRule::Alphanumeric => name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        StageNameRule::Dns1123Label => {
            selector::is_dns1123_label(name) || (name.len() > 63 && dns1123_label_chars(name))
        }
    };
    if !ok {
        c.push(field, name, ValidationErrorKind::InvalidStageName { rule });
    }
}

/// A DNS-1123 label ignoring length (length is reported on its own).
fn dns1123_label_chars(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.first().is_some_and(alnum) && b.last().is_some_and(alnum) && b.iter().all(|c| alnum(c) || *c == b'-')
}

/// `maxConcurrency`: an integer ≥ 1, or a string matching `^(100|[1-9][0-9]?)%$`.
fn max_concurrency_ok(v: &IntOrString) -> bool {
    match v {
        IntOrString::Int(n) => *n >= 1,
        IntOrString::String(s) => {
            let Some(num) = s.strip_suffix('%') else { return false };
            let b = num.as_bytes();
            num == "100" || (matches!(b.len(), 1 | 2) && b[0] != b'0' && b.iter().all(u8::is_ascii_digit))
        }
    }
}

fn tasks(c: &mut Collector, path: &str, tasks: &[super::StageTask], before: bool) {
    let max = if before { MAX_BEFORE_STAGE_TASKS } else { MAX_AFTER_STAGE_TASKS };
    if tasks.len() > max {
        c.push(path, "", ValidationErrorKind::TooMany { count: tasks.len(), max });
    }
    let mut types = BTreeSet::new();
    for (j, task) in tasks.iter().enumerate() {
        let field = format!("{path}[{j}]");
        match &task.type_ {
            StageTaskType::Unknown(t) => c.push(format!("{field}.type"), t, ValidationErrorKind::UnknownTaskType),
            StageTaskType::TimedWait if before => {
                c.push(format!("{field}.type"), "TimedWait", ValidationErrorKind::TimedWaitBeforeStage)
            }
            StageTaskType::TimedWait => match task.wait_time {
                None => c.push(format!("{field}.waitTime"), "", ValidationErrorKind::TimedWaitWithoutWaitTime),
                Some(d) if d.as_nanos() <= 0 => {
                    c.push(format!("{field}.waitTime"), d.to_string(), ValidationErrorKind::NonPositiveWaitTime)
                }
                Some(_) => {}
            },
            StageTaskType::Approval => {
                if let Some(d) = task.wait_time {
                    c.push(format!("{field}.waitTime"), d.to_string(), ValidationErrorKind::ApprovalWithWaitTime);
                }
            }
        }
        if !types.insert(task.type_.as_str()) && !before {
            c.push(format!("{field}.type"), task.type_.as_str(), ValidationErrorKind::DuplicateTaskType);
        }
    }
}

/// Validates a `ClusterStagedUpdateRun` or `StagedUpdateRun` on creation.
pub fn validate_run<R: UpdateRunObject>(run: &R) -> Result<(), ValidationErrors> {
    let mut c = Collector::new(R::KIND, run.metadata());
    c.type_meta(run);
    let name = run.metadata().name();
    if name.is_empty() {
        c.push("metadata.name", "", ValidationErrorKind::Required);
    } else if name.len() >= 64 {
        c.push("metadata.name", name, ValidationErrorKind::TooLong { max: 63 });
    }
    let spec = run.spec();
    if spec.placement_name.is_empty() {
        c.push("spec.placementName", "", ValidationErrorKind::Required);
    } else if spec.placement_name.len() > 255 {
        c.push("spec.placementName", &spec.placement_name, ValidationErrorKind::TooLong { max: 255 });
    }
    if spec.staged_update_strategy_name.is_empty() {
        c.push("spec.stagedRolloutStrategyName", "", ValidationErrorKind::Required);
    }
    if let Some(State::Unknown(s)) = &spec.state {
        c.push("spec.state", s, ValidationErrorKind::UnknownState);
    }
    c.finish()
}

/// Validates an update of a run: everything [`validate_run`] checks on `new`, plus the immutable
/// spec fields and the forbidden state transitions (Initialize→Stop, Run→Initialize,
/// Stop→Initialize).
///
/// The rules run as the API server runs them:
/// - An absent `spec.state` is the CRD default, `Initialize`, on both objects: the API server
///   defaults the incoming object and the stored one before its rules see them. Removing the
///   state of a running run is therefore the forbidden Run→Initialize.
/// - `resourceSnapshotIndex` is optional and its rule (`self == oldSelf`) is a transition rule,
///   which Kubernetes evaluates only when both objects have the field. A Go client always writes
///   it (`""` when unset), so a controller updating a run created without the field adds it, and
///   that update is accepted.
pub fn validate_run_update<R: UpdateRunObject>(old: &R, new: &R) -> Result<(), ValidationErrors> {
    let mut errors = match validate_run(new) {
        Ok(()) => Vec::new(),
        Err(e) => e.0,
    };
    let mut c = Collector::new(R::KIND, new.metadata());
    let (o, n) = (old.spec(), new.spec());
    if o.placement_name != n.placement_name {
        c.push("spec.placementName", &n.placement_name, ValidationErrorKind::Immutable { field_name: "placementName" });
    }
    if let (Some(old_index), Some(new_index)) = (&o.resource_snapshot_index, &n.resource_snapshot_index)
        && old_index != new_index
    {
        c.push(
            "spec.resourceSnapshotIndex",
            new_index,
            ValidationErrorKind::Immutable { field_name: "resourceSnapshotIndex" },
        );
    }
    if o.staged_update_strategy_name != n.staged_update_strategy_name {
        c.push(
            "spec.stagedRolloutStrategyName",
            &n.staged_update_strategy_name,
            ValidationErrorKind::Immutable { field_name: "stagedRolloutStrategyName" },
        );
    }
    // The CRD's rules guard with `has(oldSelf.state)`, but the API server has already defaulted
    // an absent state to `Initialize` on both objects by then.
    let defaulted = |state: &Option<State>| state.clone().unwrap_or(State::Initialize);
    let transition = match (defaulted(&o.state), defaulted(&n.state)) {
        (State::Initialize, State::Stop) => Some(("Initialize", "Stop")),
        (State::Run, State::Initialize) => Some(("Run", "Initialize")),
        (State::Stop, State::Initialize) => Some(("Stop", "Initialize")),
        _ => None,
    };
    if let Some((from, to)) = transition {
        let written = n.state.as_ref().map_or("", State::as_str);
        c.push("spec.state", written, ValidationErrorKind::ForbiddenStateTransition { from, to });
    }
    errors.extend(c.errors);
    if errors.is_empty() { Ok(()) } else { Err(ValidationErrors(errors)) }
}

/// Validates a `ClusterApprovalRequest` or `ApprovalRequest`, and, given the old object, that its
/// spec did not change.
pub fn validate_approval_request<A: ApprovalRequestObject>(
    request: &A,
    old: Option<&A>,
) -> Result<(), ValidationErrors> {
    let mut c = Collector::new(A::KIND, request.metadata());
    c.type_meta(request);
    if request.spec().target_update_run.is_empty() {
        c.push("spec.parentStageRollout", "", ValidationErrorKind::Required);
    }
    if request.spec().target_stage.is_empty() {
        c.push("spec.targetStage", "", ValidationErrorKind::Required);
    }
    if let Some(old) = old
        && old.spec() != request.spec()
    {
        c.push("spec", "", ValidationErrorKind::Immutable { field_name: "The spec field" });
    }
    c.finish()
}
