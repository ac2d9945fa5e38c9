//! The per-request record of provider call outcomes and webhook outcomes. A request's handler
//! runs inside [`recorded`], which makes a fresh recorder current while (and only while) that
//! request's future is polled, so [`crate::providers::send`] and the webhook routes can record
//! without an `Env`, and concurrent requests in one isolate never mix. When the handler is done
//! the outcomes are written in one D1 batch (`store::provider_calls::write`) before the response
//! leaves, so whatever the response says has already been counted. A failed write is logged and
//! never fails the request.

use crate::clock::{now_unix, Clock};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use tributary_core::ops::metrics::WebhookOutcome;
use tributary_core::ops::CallOutcome;
use tributary_core::Provider;
use worker::Env;

/// What one request recorded.
#[derive(Default)]
pub struct Recorded {
    pub calls: Vec<CallOutcome>,
    /// (when, provider, outcome) of each webhook the request answered.
    pub webhooks: Vec<(i64, Provider, WebhookOutcome)>,
}

#[derive(Default)]
struct Recorder {
    recorded: RefCell<Recorded>,
    /// The clock of the request's user, once authenticated (else the worker's).
    clock: Cell<Option<Clock>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Recorder>>> = const { RefCell::new(None) };
}

fn with_current(f: impl FnOnce(&Recorder)) {
    CURRENT.with(|current| {
        if let Some(recorder) = current.borrow().as_ref() {
            f(recorder);
        }
    });
}

/// Unix seconds on the current request's clock: its user's once authenticated, else the worker's.
pub fn now() -> i64 {
    let mut clock = None;
    with_current(|r| clock = r.clock.get());
    clock.map_or_else(now_unix, |c| c.now())
}

/// Makes `clock` the clock the current request's outcomes are stamped with.
pub fn use_clock(clock: Clock) {
    with_current(|r| r.clock.set(Some(clock)));
}

/// Records one provider call attempt for the current request (nothing outside a request).
pub fn record_call(outcome: CallOutcome) {
    with_current(|r| r.recorded.borrow_mut().calls.push(outcome));
}

/// Records how a webhook ended for the current request.
pub fn record_webhook(provider: Provider, outcome: WebhookOutcome) {
    let at = now();
    with_current(|r| r.recorded.borrow_mut().webhooks.push((at, provider, outcome)));
}

/// A future polled with its recorder current.
struct Scoped<F> {
    recorder: Rc<Recorder>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let previous = CURRENT.with(|current| current.replace(Some(this.recorder.clone())));
        let polled = this.inner.as_mut().poll(cx);
        CURRENT.with(|current| *current.borrow_mut() = previous);
        polled
    }
}

/// Runs `handler` with a fresh recorder, then writes what it recorded in one D1 batch.
pub async fn recorded<F: Future>(env: &Env, handler: F) -> F::Output {
    let recorder = Rc::new(Recorder::default());
    let output = Scoped { recorder: recorder.clone(), inner: Box::pin(handler) }.await;
    let recorded = recorder.recorded.take();
    if !recorded.calls.is_empty() || !recorded.webhooks.is_empty() {
        if let Err(error) = crate::store::provider_calls::write(env, &recorded).await {
            crate::api::log_failure("record provider calls", error);
        }
    }
    output
}
