//! Authentication (CONTRACT §2): `Authorization: Bearer <key>`, the key's environment must match
//! the path's, and only secret keys read data. Every failure is the same 401 body.
//!
//! Resolved keys are cached in memory for at most [`CACHE_TTL`], so a hot key costs one hash and one
//! map lookup, while `keys revoke` (a database write) takes effect on every process within that TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use okra_core::apikey::{self, KeyKind};
use okra_core::Environment;
use okra_store::keys::KeyGrant;
use okra_store::{Db, Tenant};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::http::ApiError;

/// How long a resolved (or unknown) key is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_millis(900);
const CACHE_MAX_ENTRIES: usize = 50_000;

/// The environment of the path a route was mounted under (`/v2` or `/v2/sandbox`).
#[derive(Clone, Copy, Debug)]
pub struct PathEnv(pub Environment);

/// Short-lived cache of key lookups by hash.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, Option<KeyGrant>)>>,
}

impl KeyCache {
    /// Resolves a presented key to its grant, or `None` if unknown or revoked.
    pub async fn resolve(&self, db: &Db, key: &str) -> Result<Option<KeyGrant>, ApiError> {
        let hash = apikey::hash(key);
        let cached = {
            let entries = self.entries.lock().expect("key cache lock");
            entries
                .get(&hash)
                .filter(|(at, _)| at.elapsed() < CACHE_TTL)
                .map(|(_, g)| g.clone())
        };
        let grant = match cached {
            Some(grant) => grant,
            None => {
                let grant = okra_store::keys::find_by_hash(db, &hash).await?;
                let mut entries = self.entries.lock().expect("key cache lock");
                if entries.len() >= CACHE_MAX_ENTRIES {
                    entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
                    if entries.len() >= CACHE_MAX_ENTRIES {
                        entries.clear();
                    }
                }
                entries.insert(hash.clone(), (Instant::now(), grant.clone()));
                grant
            }
        };
        Ok(grant.filter(|g| {
            // The lookup was by hash already; comparing again in constant time keeps timing from
            // saying anything about stored hashes even if the lookup path changes.
            bool::from(g.key_hash.as_bytes().ct_eq(hash.as_bytes())) && g.revoked_at.is_none()
        }))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates a request for a key of `kind`, in the path's environment.
async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allowed: &[KeyKind],
) -> Result<KeyGrant, ApiError> {
    let path_env = parts
        .extensions
        .get::<PathEnv>()
        .ok_or(ApiError::Unauthorized)?
        .0;
    let key = bearer(parts).ok_or(ApiError::Unauthorized)?;
    let (kind, env) = apikey::parse(key).ok_or(ApiError::Unauthorized)?;
    if env != path_env || !allowed.contains(&kind) {
        return Err(ApiError::Unauthorized);
    }
    let grant = state
        .keys
        .resolve(&state.db, key)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if grant.env != path_env || grant.kind != kind {
        return Err(ApiError::Unauthorized);
    }
    state
        .rate_limiter
        .check(&state.db, &grant.key_id)
        .await
        .map_err(ApiError::RateLimited)?;
    Ok(grant)
}

/// A request made with a secret key: its tenant (owner and environment).
pub struct SecretAuth(pub Tenant);

impl FromRequestParts<AppState> for SecretAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let grant = authenticate(parts, state, &[KeyKind::Secret]).await?;
        Ok(SecretAuth(Tenant {
            owner_id: grant.owner_id,
            env: grant.env,
        }))
    }
}
