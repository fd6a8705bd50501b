//! A processor's outputs: `name` (or `name.points`), `name.alerts` and, for
//! an alert stage, `name.notifications`.

use std::sync::Arc;

use super::Produced;
use crate::delivery::Delivery;
use crate::event::Batch;
use crate::fanout::Fanout;

/// Where a processor's points and alerts go.
#[derive(Debug)]
pub struct Outputs {
    /// Consumers of `name` / `name.points`.
    pub points: Fanout,
    /// Consumers of `name.alerts`.
    pub alerts: Fanout,
    /// Consumers of `name.notifications`.
    pub notifications: Fanout,
}

impl Outputs {
    /// Send what `component` produced from one batch (or tick): points and
    /// alerts each as a batch of their own carrying `delivery`, so the
    /// source hears of its batch once both are durable. An empty part, or
    /// an output nobody reads, sends nothing.
    pub async fn send(&mut self, component: &Arc<str>, produced: Produced, delivery: &Delivery) {
        if !produced.points.is_empty() && !self.points.is_empty() {
            let batch = Batch {
                component: Arc::clone(component),
                points: produced.points,
                delivery: delivery.clone(),
                ..Batch::default()
            };
            self.points.send(Arc::new(batch)).await;
        }
        if !produced.alerts.is_empty() && !self.alerts.is_empty() {
            let batch = Batch {
                component: Arc::clone(component),
                alerts: produced.alerts,
                delivery: delivery.clone(),
                ..Batch::default()
            };
            self.alerts.send(Arc::new(batch)).await;
        }
        for (notification, delivery) in produced.notifications {
            if self.notifications.is_empty() {
                break;
            }
            let batch = Batch {
                component: Arc::clone(component),
                notifications: vec![notification],
                delivery,
                ..Batch::default()
            };
            self.notifications.send(Arc::new(batch)).await;
        }
    }
}
