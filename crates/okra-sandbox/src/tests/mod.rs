//! Cross-module properties of the network: determinism, identifiers, views that must agree.

mod access;
mod custom;
mod custom_views;
mod population;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::{Date, Network};

/// Polls a future that is ready at once (every future of this crate is).
pub(crate) fn now<F: Future>(future: F) -> F::Output {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the null data pointer.
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    match pin!(future).poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("sandbox futures are ready at once"),
    }
}

pub(crate) fn network() -> Network {
    Network::new(2020, 1_000_000).with_as_of(Date::parse("2025-03-15").unwrap())
}
