//! Owners, their API keys and webhook signing secrets.

use base64::Engine;
use okra_core::apikey::{self, KeyKind};
use okra_core::Environment;
use okra_store::crypto::Keyring;
use okra_store::owners::Owner;
use okra_store::{Db, StoreError};
use rand::RngCore;
use serde::Serialize;

use okra_store::owners::WEBHOOK_SECRET_CONTEXT;

/// Longest owner name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Refuses owner names nobody could type back: empty or blank, padded with whitespace, longer than
/// [`MAX_NAME_CHARS`], or containing control characters.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() {
        anyhow::bail!("an owner name must not be empty or blank");
    }
    if name.trim() != name {
        anyhow::bail!("the owner name `{name}` starts or ends with whitespace");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        anyhow::bail!("an owner name must be at most {MAX_NAME_CHARS} characters");
    }
    if name.chars().any(char::is_control) {
        anyhow::bail!("an owner name must not contain control characters");
    }
    Ok(())
}

/// A key shown to its owner once. `Debug` shows only the key's hint, never the key.
#[derive(Clone, Serialize)]
pub struct IssuedKey {
    /// Key id (for `keys revoke`).
    pub id: String,
    /// `sandbox` or `production`.
    pub env: Environment,
    /// `secret` or `publishable`.
    pub kind: &'static str,
    /// The key itself.
    pub key: String,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("id", &self.id)
            .field("env", &self.env)
            .field("kind", &self.kind)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Everything a new owner needs, shown once. `Debug` redacts the keys and the webhook secret, so
/// a stray `{:?}` in a log line cannot leak them.
#[derive(Clone, Serialize)]
pub struct OwnerCredentials {
    /// Owner name.
    pub owner: String,
    /// Owner id.
    pub owner_id: String,
    /// Secret and publishable keys for both environments.
    pub keys: Vec<IssuedKey>,
    /// The `whsec_` secret webhooks are signed with.
    pub webhook_secret: String,
}

impl std::fmt::Debug for OwnerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerCredentials")
            .field("owner", &self.owner)
            .field("owner_id", &self.owner_id)
            .field("keys", &self.keys)
            .field("webhook_secret", &"[redacted]")
            .finish()
    }
}

/// A new Standard Webhooks signing secret (`whsec_` + base64 of 24 random bytes).
pub fn new_webhook_secret() -> String {
    let mut raw = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Creates an owner with secret and publishable keys for both environments and a webhook secret,
/// all in one transaction. Fails with `Conflict` when the name is taken.
pub async fn create_owner(
    db: &Db,
    keyring: &Keyring,
    name: &str,
) -> Result<OwnerCredentials, StoreError> {
    let webhook_secret = new_webhook_secret();
    let mut tx = db.begin().await?;
    let owner: Owner = okra_store::owners::create(
        tx.conn(),
        name,
        &keyring.seal_str(WEBHOOK_SECRET_CONTEXT, &webhook_secret),
    )
    .await?;
    let mut keys = Vec::new();
    for env in Environment::ALL {
        for kind in [KeyKind::Secret, KeyKind::Publishable] {
            let key = apikey::generate(kind, env);
            let id = okra_store::keys::insert(
                tx.conn(),
                &owner.id,
                env,
                kind,
                &apikey::hash(&key),
                &apikey::hint(&key),
            )
            .await?;
            keys.push(IssuedKey {
                id,
                env,
                kind: kind.as_str(),
                key,
            });
        }
    }
    tx.commit().await?;
    Ok(OwnerCredentials {
        owner: owner.name,
        owner_id: owner.id,
        keys,
        webhook_secret,
    })
}

/// Issues one more key for an existing owner. `None` when the owner does not exist.
pub async fn create_key(
    db: &Db,
    owner_name: &str,
    env: Environment,
    kind: KeyKind,
) -> Result<Option<String>, StoreError> {
    let Some(owner) = okra_store::owners::find_by_name(db, owner_name).await? else {
        return Ok(None);
    };
    let key = apikey::generate(kind, env);
    let mut tx = db.begin().await?;
    okra_store::keys::insert(
        tx.conn(),
        &owner.id,
        env,
        kind,
        &apikey::hash(&key),
        &apikey::hint(&key),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(key))
}

/// The webhook signing secret of an owner, decrypted. `None` when the owner does not exist.
pub async fn webhook_secret(
    db: &Db,
    keyring: &Keyring,
    owner_name: &str,
) -> Result<Option<String>, StoreError> {
    let Some(owner) = okra_store::owners::find_by_name(db, owner_name).await? else {
        return Ok(None);
    };
    match okra_store::owners::webhook_secret_enc(db, &owner.id).await? {
        Some(sealed) => Ok(Some(keyring.open_str(WEBHOOK_SECRET_CONTEXT, &sealed)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_webhook_secrets_are_standard_webhooks_secrets() {
        let secret = new_webhook_secret();
        let key = okra_core::webhook_signature::decode_secret(&secret).unwrap();
        assert_eq!(key.len(), 24);
        assert_ne!(secret, new_webhook_secret());
    }

    #[test]
    fn debug_never_shows_keys_or_the_webhook_secret() {
        let creds = OwnerCredentials {
            owner: "acme".into(),
            owner_id: "o1".into(),
            keys: vec![IssuedKey {
                id: "k1".into(),
                env: Environment::Sandbox,
                kind: "secret",
                key: apikey::generate(KeyKind::Secret, Environment::Sandbox),
            }],
            webhook_secret: new_webhook_secret(),
        };
        let shown = format!("{creds:?} {creds:#?}");
        assert!(!shown.contains(&creds.keys[0].key), "{shown}");
        assert!(!shown.contains(&creds.webhook_secret), "{shown}");
        assert!(shown.contains("acme") && shown.contains("[redacted]"));
    }

    #[test]
    fn owner_names_are_checked() {
        for bad in [
            "",
            "   ",
            "\t",
            " acme",
            "acme\n",
            &"x".repeat(65),
            "a\u{7}b",
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        for ok in ["acme", "Acme Ltd", "ọ̀yọ́ bank", &"x".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok:?}");
        }
    }
}
