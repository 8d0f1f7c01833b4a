//! Simulators of Autotask and Passportal. Neither service can be reached from here, so the
//! project ships both, speaking the wire contracts of `shared/api/` over real HTTP on loopback.
//! Tests, the demo and the benchmarks run the real clients against them.

pub mod autotask;
pub mod generator;
pub mod passportal;

use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A simulator listening on a loopback port until stopped (or dropped with the runtime).
pub struct RunningSim {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSim {
    /// Serve `router` on `bind` (port 0 picks a free port) until `stop` is called.
    pub async fn serve(router: axum::Router, bind: SocketAddr) -> std::io::Result<RunningSim> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = served.await {
                tracing::error!("simulator on {addr} stopped: {e}");
            }
        });
        Ok(RunningSim {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Requests a simulator did not expect (no route). A test asserts this stays empty, so a client
/// calling a route the contract does not have fails loudly instead of passing by accident.
#[derive(Default)]
pub struct UnexpectedRequests(Mutex<Vec<String>>);

impl UnexpectedRequests {
    pub fn record(&self, what: String) {
        tracing::error!("simulator got an unexpected request: {what}");
        self.0.lock().expect("lock").push(what);
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}
