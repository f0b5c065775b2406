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

/// A key shown to its owner once.
#[derive(Clone, Debug, Serialize)]
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

/// Everything a new owner needs, shown once.
#[derive(Clone, Debug, Serialize)]
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
