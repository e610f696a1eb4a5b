//! The one sample writer: a thread that owns the write connection, fed
//! through a bounded queue. SQLite allows one writer at a time; funnelling
//! every collector through one thread means no collector ever waits on a
//! busy lock, and queued batches can share one transaction (one WAL commit
//! for many batches), which is where most of the write cost is.
//!
//! A batch is acknowledged only after the transaction holding it committed,
//! so an acknowledged batch survives a process kill (see the `synchronous`
//! comment in `Store::open`).

use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::samples::BatchReceipt;
use super::{Store, StoreError};
use crate::metrics::Batch;

/// Queued batches the writer takes into one transaction at most, and the
/// samples that may add up to; bounded so that one commit stays short and
/// the first batch of a group is not held back for long.
const MAX_GROUP_BATCHES: usize = 64;
const MAX_GROUP_SAMPLES: usize = 50_000;

type Reply = oneshot::Sender<Result<BatchReceipt, StoreError>>;

struct Job {
    batch: Batch,
    reply: Reply,
}

/// The receipt of a submitted batch, once its transaction committed.
#[derive(Debug)]
pub struct Ack {
    rx: oneshot::Receiver<Result<BatchReceipt, StoreError>>,
}

impl Ack {
    /// Blocks the calling thread until the batch committed or failed. Do not
    /// call it from inside an async runtime; use [`Ack::wait_async`] there.
    pub fn wait(self) -> Result<BatchReceipt, StoreError> {
        self.rx
            .blocking_recv()
            .unwrap_or(Err(StoreError::WriterStopped))
    }

    /// Waits without blocking a runtime thread (any executor).
    pub async fn wait_async(self) -> Result<BatchReceipt, StoreError> {
        self.rx.await.unwrap_or(Err(StoreError::WriterStopped))
    }
}

/// Owns the cache's write connection on a dedicated thread.
#[derive(Debug)]
pub struct SampleWriter {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl SampleWriter {
    /// Starts the writer on `store`, with room for `queue` batches waiting
    /// (at least 1). Submitting blocks (or waits) while the queue is full:
    /// that back-pressure is what bounds memory when the disk is slow.
    pub fn start(store: Store, queue: usize) -> Result<SampleWriter, StoreError> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let thread = std::thread::Builder::new()
            .name("cloudops-sample-writer".into())
            .spawn(move || run(store, rx))
            .map_err(|source| StoreError::Io {
                path: "sample writer thread".into(),
                source,
            })?;
        Ok(SampleWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `batch`, blocking while the queue is full. Not for async code:
    /// use [`SampleWriter::submit_async`] there.
    pub fn submit(&self, batch: Batch) -> Result<Ack, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .blocking_send(Job { batch, reply })
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(Ack { rx })
    }

    /// Queues `batch`, waiting asynchronously while the queue is full.
    pub async fn submit_async(&self, batch: Batch) -> Result<Ack, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.sender()?
            .send(Job { batch, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(Ack { rx })
    }

    /// Submits and waits for the commit (blocking).
    pub fn write(&self, batch: Batch) -> Result<BatchReceipt, StoreError> {
        self.submit(batch)?.wait()
    }

    fn sender(&self) -> Result<&mpsc::Sender<Job>, StoreError> {
        self.tx.as_ref().ok_or(StoreError::WriterStopped)
    }

    /// Writes everything already queued, then stops the thread. Batches
    /// submitted before `close` are all committed (or failed) when it
    /// returns.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), StoreError> {
        // Dropping the sender lets the thread drain the queue and exit.
        self.tx = None;
        match self.thread.take() {
            Some(handle) => handle.join().map_err(|_| StoreError::WriterStopped),
            None => Ok(()),
        }
    }
}

impl Drop for SampleWriter {
    /// Dropping flushes like `close`; the result is only logged.
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "the sample writer did not stop cleanly");
        }
    }
}

fn run(mut store: Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut samples = first.batch.samples.len();
        let mut group = vec![first];
        // Coalesce what is already waiting, without waiting for more.
        while group.len() < MAX_GROUP_BATCHES && samples < MAX_GROUP_SAMPLES {
            match rx.try_recv() {
                Ok(job) => {
                    samples += job.batch.samples.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let (batches, replies): (Vec<Batch>, Vec<Reply>) =
            group.into_iter().map(|j| (j.batch, j.reply)).unzip();
        match store.insert_batches(&batches) {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // A caller that stopped waiting is not an error.
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                // The shared commit failed, so nothing of the group was
                // written. Retry each batch alone: each then gets its own
                // genuine outcome (and one bad batch cannot sink the rest).
                tracing::warn!(error = %e, batches = batches.len(), "sample transaction failed; retrying batch by batch");
                for (reply, batch) in replies.into_iter().zip(&batches) {
                    let _ = reply.send(store.insert_batch(batch));
                }
            }
        }
    }
}
