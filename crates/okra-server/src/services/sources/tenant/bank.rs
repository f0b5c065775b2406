//! Calls made at a bank: logging in, and what a session shows (accounts, the holder's identity,
//! an account's balance).

use okra_core::source::{
    BankSession, Credentials, SourceAccount, SourceBalance, SourceError, SourceIdentity,
};
use okra_sandbox::Lookup;

use super::TenantSource;

impl TenantSource {
    /// Logs in at a bank: a sandbox customer's own username and password first, then the network.
    pub async fn authenticate(
        &self,
        bank_id: &str,
        credentials: &Credentials,
    ) -> Result<BankSession, SourceError> {
        let target = Self::bank_target(bank_id);
        // The simulated banks know one code: a code sent to them is checked whether or not this
        // login was asked for one (a single-use `otp_required` fault is used up by the request
        // for the code, and a wrong code must still be wrong).
        if self.set.network.is_some() && credentials.otp.is_some() {
            okra_sandbox::check_otp(credentials.otp.as_deref())?;
        }
        match self.login_fault(&target).await {
            // A scripted OTP request is answered like the `otp.` trigger: the sandbox's code
            // passes it, so the widget's OTP step can be driven by a fault too.
            Some(SourceError::OtpRequired) => okra_sandbox::check_otp(credentials.otp.as_deref())?,
            Some(err) => return Err(err),
            None => {}
        }
        if let Some(answer) = self
            .login_sandbox_customer(&target, bank_id, credentials)
            .await
        {
            return answer;
        }
        let delay = self
            .set
            .network
            .as_ref()
            .and_then(|_| okra_sandbox::faults::delay_for_username(&credentials.username));
        self.call(
            &target,
            delay,
            self.set.bank.authenticate(bank_id, credentials),
        )
        .await
    }

    /// Accounts visible in a session.
    pub async fn list_accounts(
        &self,
        session: &BankSession,
    ) -> Result<Vec<SourceAccount>, SourceError> {
        let target = Self::bank_target(&session.bank_id);
        self.routed(
            &target,
            Lookup::Session(session),
            true,
            |network, person| network.session_accounts_for(person, session),
            self.set.bank.list_accounts(session),
        )
        .await
    }

    /// The account holder's identity in a session.
    pub async fn identity(&self, session: &BankSession) -> Result<SourceIdentity, SourceError> {
        let target = Self::bank_target(&session.bank_id);
        self.routed_identity(
            &target,
            Lookup::Session(session),
            true,
            |_, person| Ok(person.identity()),
            self.set.bank.identity(session),
        )
        .await
    }

    /// One account's balance.
    pub async fn balance(
        &self,
        bank_id: &str,
        account_ref: &str,
    ) -> Result<SourceBalance, SourceError> {
        let target = Self::bank_target(bank_id);
        self.routed(
            &target,
            Lookup::Account {
                bank: bank_id,
                number: account_ref,
            },
            true,
            |network, person| network.balance_for(person, bank_id, account_ref, network.as_of()),
            self.set.bank.balance(bank_id, account_ref),
        )
        .await
    }
}
