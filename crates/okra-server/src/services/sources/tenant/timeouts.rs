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
        // Scripted outages answer as the bank would have: counted like real calls.
        if self.take(&["bank_down"], target).await.is_some() {
            let result = Err(SourceError::BankUnavailable);
            self.count::<T>(&result);
            return result;
        }
        if self.take(&["timeout"], target).await.is_some() {
            let result = Err(SourceError::Timeout);
            self.count::<T>(&result);
            return result;
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
        let result = match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout),
        };
        self.count(&result);
        result
    }

    /// Counts a call in the metrics, by how it ended.
    fn count<T>(&self, result: &Result<T, SourceError>) {
        let env = self.tenant.env.as_str();
        self.state
            .metrics
            .source_call(env, result.as_ref().map(|_| ()));
    }
}
