//! What each component is doing, for `/health` and `/ready`.
//!
//! Components are registered when the pipeline is built and report their
//! state as it changes: a source is `starting` until it has opened its input,
//! a sink whose writes fail is `degraded` until a write succeeds again, and a
//! component whose task ended with an error or panicked is `failed`. The
//! registry is process-wide, like the metrics, so any part of the agent can
//! report without being handed a handle.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use serde::Serialize;

/// The state of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
pub enum ComponentStatus {
    /// Built, not yet connected to its input (sources).
    Starting,
    /// Working.
    Running,
    /// Working, but something keeps failing (writes retried): the reason.
    Degraded(String),
    /// Its task ended with an error or panicked: the reason.
    Failed(String),
    /// Done: a finite source reached its end.
    Finished,
}

/// Every component's state.
#[derive(Debug, Default)]
pub struct Health {
    components: Mutex<BTreeMap<String, ComponentStatus>>,
}

/// The process-wide registry.
pub fn health() -> &'static Health {
    static HEALTH: LazyLock<Health> = LazyLock::new(Health::default);
    &HEALTH
}

impl Health {
    /// Set `component`'s state.
    pub fn set(&self, component: &str, status: ComponentStatus) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        publish(component, &status);
        components.insert(component.to_owned(), status);
    }

    /// Mark `component` failed for `reason`, unless it already is (the
    /// first reason is the one that tells what happened).
    pub fn fail(&self, component: &str, reason: &str) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !matches!(components.get(component), Some(ComponentStatus::Failed(_))) {
            let status = ComponentStatus::Failed(reason.to_owned());
            publish(component, &status);
            components.insert(component.to_owned(), status);
        }
    }

    /// Mark `component` running again whatever its state: a plugin that
    /// was failed works again.
    pub fn running(&self, component: &str) {
        self.set(component, ComponentStatus::Running);
    }

    /// Mark `component` running again, if it was degraded.
    pub fn recovered(&self, component: &str) {
        let mut components = self
            .components
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(status @ ComponentStatus::Degraded(_)) = components.get_mut(component) {
            *status = ComponentStatus::Running;
            publish(component, status);
        }
    }

    /// A copy of every component's state.
    pub fn snapshot(&self) -> BTreeMap<String, ComponentStatus> {
        self.components
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Healthy: no component failed or degraded.
    pub fn is_healthy(&self) -> bool {
        self.snapshot().values().all(|status| {
            !matches!(
                status,
                ComponentStatus::Failed(_) | ComponentStatus::Degraded(_)
            )
        })
    }

    /// Ready: something is registered and every component has started.
    pub fn is_ready(&self) -> bool {
        let components = self.snapshot();
        !components.is_empty()
            && components.values().all(|status| {
                matches!(
                    status,
                    ComponentStatus::Running
                        | ComponentStatus::Finished
                        | ComponentStatus::Degraded(_)
                )
            })
    }
}

/// Mirror a state in `foghorn_component_up`.
fn publish(component: &str, status: &ComponentStatus) {
    let up = !matches!(
        status,
        ComponentStatus::Failed(_) | ComponentStatus::Degraded(_)
    );
    crate::internal::metrics::metrics()
        .component_up
        .with_label_values(&[component])
        .set(i64::from(up));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_readiness_follow_the_components() {
        let health = Health::default();
        assert!(!health.is_ready(), "nothing registered yet");
        health.set("in", ComponentStatus::Starting);
        health.set("out", ComponentStatus::Running);
        assert!(health.is_healthy());
        assert!(!health.is_ready(), "a source has not connected");
        health.set("in", ComponentStatus::Running);
        assert!(health.is_ready());
        health.set("out", ComponentStatus::Degraded("disk full".into()));
        assert!(!health.is_healthy());
        assert!(health.is_ready());
        health.recovered("out");
        assert!(health.is_healthy());
        health.set("out", ComponentStatus::Failed("panicked".into()));
        assert!(!health.is_healthy());
        health.recovered("out");
        assert!(!health.is_healthy(), "failed is final");
    }
}
