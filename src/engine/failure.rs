//! KubeFleet's error chain, as data: message prefixes, and whether an error aborts the run or is
//! retried.

/// `errStagedUpdatedAborted`.
pub(crate) const ABORT: &str = "cannot continue the updateRun: ";
/// `errValidationFailed`, which wraps `errStagedUpdatedAborted`.
pub(crate) const VALFAIL: &str = "cannot continue the updateRun: failed to validate the updateRun: ";
/// `controller.ErrUserError`.
pub(crate) const USER: &str = "failed to process the request due to a client error: ";
/// `controller.ErrUnexpectedBehavior`.
pub(crate) const UNEXP: &str = "unexpected behavior which cannot be handled by the controller: ";

/// An error of one reconcile step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Wraps `errStagedUpdatedAborted`: the run (or its initialization) fails for good with this
    /// message.
    Abort(String),
    /// Anything else: KubeFleet returns it to controller-runtime, which retries with backoff.
    Retry(String),
}

impl Failure {
    pub(crate) fn abort(msg: impl Into<String>) -> Failure {
        Failure::Abort(msg.into())
    }

    /// `fmt.Errorf("%w: %s", errValidationFailed, msg)`.
    pub(crate) fn valfail(msg: impl AsRef<str>) -> Failure {
        Failure::Abort(format!("{VALFAIL}{}", msg.as_ref()))
    }

    pub(crate) fn retry(msg: impl Into<String>) -> Failure {
        Failure::Retry(msg.into())
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Abort(m) | Failure::Retry(m) => m,
        }
    }

    /// `utilerrors.NewAggregate(errs)`: one error as itself, several as `[e1, e2]` with
    /// duplicate messages dropped; the aggregate aborts when any part does.
    pub(crate) fn aggregate(errors: Vec<Failure>) -> Option<Failure> {
        let aborts = errors.iter().any(|e| matches!(e, Failure::Abort(_)));
        let mut seen: Vec<&str> = Vec::new();
        for e in &errors {
            if !seen.contains(&e.message()) {
                seen.push(e.message());
            }
        }
        let message = match seen.len() {
            0 => return None,
            1 => seen[0].to_owned(),
            _ => format!("[{}]", seen.join(", ")),
        };
        Some(if aborts { Failure::Abort(message) } else { Failure::Retry(message) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_formats_like_kubernetes() {
        assert_eq!(Failure::aggregate(vec![]), None);
        assert_eq!(Failure::aggregate(vec![Failure::retry("a")]), Some(Failure::retry("a")));
        assert_eq!(
            Failure::aggregate(vec![Failure::retry("a"), Failure::abort("b"), Failure::retry("a")]),
            Some(Failure::abort("[a, b]"))
        );
        assert_eq!(Failure::aggregate(vec![Failure::retry("a"), Failure::retry("a")]), Some(Failure::retry("a")));
    }
}
