//! Authentication (docs/api.md §2): `Authorization: Bearer <key>`, the key's environment must match
//! the path's, and only secret keys read data. Every failure is the same 401 body.
//!
//! Resolved keys are cached in memory for at most [`CACHE_TTL_MS`], so a hot key costs one hash and
//! one map lookup, while `keys revoke` (a database write) takes effect on every process within that
//! TTL. A request with two `Authorization` headers is refused: which one a proxy or framework would
//! honour is ambiguous. Failed attempts are counted per client address ([`super::throttle`]); an
//! address over its budget gets 429 before any key lookup, unless it presents a key that
//! authenticated within the last ten minutes.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use okra_core::apikey::{self, KeyKind};
use okra_core::Environment;
use okra_store::keys::KeyGrant;
use okra_store::{Db, Tenant};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::clock::Clock;
use crate::http::ApiError;

/// How long a resolved (or unknown) key is trusted without asking the database again, in ms.
pub const CACHE_TTL_MS: i64 = 900;
/// Keys the cache holds at most. Eviction is per entry and frequency-aware (S3-FIFO): a flood of
/// forged keys pushes out other forged keys, not the hot keys of real clients.
const CACHE_MAX_ENTRIES: usize = 50_000;

/// The environment of the path a route was mounted under (`/v2` or `/v2/sandbox`).
#[derive(Clone, Copy, Debug)]
pub struct PathEnv(pub Environment);

/// How long a key that authenticated keeps its pass through the failed-auth throttle, in ms.
pub const PROVEN_TTL_MS: i64 = 10 * 60_000;
/// Keys remembered as proven at most.
const PROVEN_MAX_ENTRIES: usize = 10_000;

/// Short-lived, bounded cache of key lookups by hash, and the keys that recently proved valid.
pub struct KeyCache {
    entries: quick_cache::sync::Cache<String, (i64, Option<KeyGrant>)>,
    /// Hash → when the key last authenticated. An address over its failed-auth budget may still
    /// present these (they are then looked up as usual, so a revocation still applies).
    proven: quick_cache::sync::Cache<String, i64>,
    clock: Arc<dyn Clock>,
}

impl KeyCache {
    /// An empty cache reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_capacity(CACHE_MAX_ENTRIES, clock)
    }

    /// An empty cache of about `capacity` keys.
    pub fn with_capacity(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        KeyCache {
            entries: quick_cache::sync::Cache::new(capacity),
            proven: quick_cache::sync::Cache::new(PROVEN_MAX_ENTRIES.min(capacity.max(16))),
            clock,
        }
    }

    /// Keys cached now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The grant of a key whose valid grant is cached and fresh (no database lookup).
    pub fn cached_valid(&self, key: &str) -> Option<KeyGrant> {
        let hash = apikey::hash(key);
        self.fresh(&hash)
            .flatten()
            .filter(|g| g.revoked_at.is_none())
    }

    /// Whether `key` authenticated within the last [`PROVEN_TTL_MS`] (no database lookup).
    pub fn proven_recently(&self, key: &str) -> bool {
        let now = self.clock.now_ms();
        self.proven
            .get(&apikey::hash(key))
            .is_some_and(|at| now - at < PROVEN_TTL_MS)
    }

    fn fresh(&self, hash: &str) -> Option<Option<KeyGrant>> {
        let now = self.clock.now_ms();
        self.entries
            .get(hash)
            .filter(|(at, _)| now - at < CACHE_TTL_MS)
            .map(|(_, g)| g)
    }

    /// Resolves a presented key to its grant, or `None` if unknown or revoked.
    pub async fn resolve(&self, db: &Db, key: &str) -> Result<Option<KeyGrant>, ApiError> {
        let hash = apikey::hash(key);
        let grant = match self.fresh(&hash) {
            Some(grant) => grant,
            None => {
                let grant = okra_store::keys::find_by_hash(db, &hash).await?;
                self.entries
                    .insert(hash.clone(), (self.clock.now_ms(), grant.clone()));
                grant
            }
        };
        let grant = grant.filter(|g| {
            // The lookup was by hash already; comparing again in constant time keeps timing from
            // saying anything about stored hashes even if the lookup path changes.
            bool::from(g.key_hash.as_bytes().ct_eq(hash.as_bytes())) && g.revoked_at.is_none()
        });
        if grant.is_some() {
            self.proven.insert(hash, self.clock.now_ms());
        } else {
            self.proven.remove(&hash);
        }
        Ok(grant)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authenticates a request for a key of `kind`, in the path's environment.
async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allowed: &[KeyKind],
) -> Result<KeyGrant, ApiError> {
    let peer = super::listener::peer(parts).map(|a| a.ip());
    let key = bearer(parts);
    if let Some(ip) = peer {
        if let Err(retry) = state.auth_throttle.check(ip) {
            // Over budget: only a key that recently proved valid gets through (and is then
            // looked up as usual); anything else is refused without touching the database.
            if !key.is_some_and(|k| state.keys.proven_recently(k)) {
                return Err(ApiError::RateLimited(retry));
            }
        }
    }
    let result = check_key(parts, state, key, allowed).await;
    if let (Err(ApiError::Unauthorized), Some(ip)) = (&result, peer) {
        state.auth_throttle.failed(ip);
    }
    let grant = result?;
    state
        .rate_limiter
        .check(&state.db, &grant.key_id)
        .await
        .map_err(ApiError::RateLimited)?;
    Ok(grant)
}

async fn check_key(
    parts: &Parts,
    state: &AppState,
    key: Option<&str>,
    allowed: &[KeyKind],
) -> Result<KeyGrant, ApiError> {
    let path_env = parts
        .extensions
        .get::<PathEnv>()
        .ok_or(ApiError::Unauthorized)?
        .0;
    let key = key.ok_or(ApiError::Unauthorized)?;
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

/// A request made with a secret or a publishable key (the widget's routes: `links/new`,
/// `link/connect`): its tenant, and which kind of key it was.
pub struct LinkAuth(pub Tenant, pub KeyKind);

impl FromRequestParts<AppState> for LinkAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let grant = authenticate(parts, state, &[KeyKind::Secret, KeyKind::Publishable]).await?;
        Ok(LinkAuth(
            Tenant {
                owner_id: grant.owner_id,
                env: grant.env,
            },
            grant.kind,
        ))
    }
}
