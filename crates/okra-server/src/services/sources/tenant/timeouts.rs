//! Outage faults, slowness and the source timeout, applied around every data-source call so no
//! request waits on a bank forever.

use std::future::Future;
use std::time::Duration;

use okra_core::source::SourceError;

use super::super::scripted::Target;
use super::TenantSource;

impl TenantSource {
    /// Applies outage faults and slowness, then runs `op` within the source timeout. A delay
    /// (scripted `slow`, or a slow bank's `extra_delay`) counts against the timeout, so a delay
    /// beyond it becomes a timeout.
    pub(super) async fn call<T>(
        &self,
        target: &Target,
        extra_delay: Option<Duration>,
        op: impl Future<Output = Result<T, SourceError>>,
    ) -> Result<T, SourceError> {
        if self.take(&["bank_down"], target).await.is_some() {
            return Err(SourceError::BankUnavailable);
        }
        if self.take(&["timeout"], target).await.is_some() {
            return Err(SourceError::Timeout);
        }
        let mut delay = extra_delay.unwrap_or_default();
        if let Some(f) = self.take(&["slow"], target).await {
            delay += Duration::from_millis(f.fault.delay_ms.max(0) as u64);
        }
        let work = async {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            op.await
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout),
        }
    }
}
