//! The service's listener: tokio's `TcpListener`, with a read timeout on
//! every connection it accepts.
//!
//! `axum::serve` gives hyper no timer, so hyper's own header-read timeout is
//! off there, and a client that opens a connection and goes quiet would keep
//! it (and its task) forever. With this listener a connection whose reads
//! wait longer than the timeout fails and hyper drops it: a silent client,
//! a stalled request head or body, an idle keep-alive connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// A [`TcpListener`] whose connections time out when a read waits too long.
pub struct TimeoutListener {
    listener: TcpListener,
    read_timeout: Duration,
}

impl TimeoutListener {
    pub fn new(listener: TcpListener, read_timeout: Duration) -> Self {
        TimeoutListener {
            listener,
            read_timeout,
        }
    }
}

impl Listener for TimeoutListener {
    type Io = Pin<Box<TimeoutStream<TcpStream>>>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's accept for `TcpListener` retries (and backs off) on errors.
        let (stream, addr) = Listener::accept(&mut self.listener).await;
        let mut stream = TimeoutStream::new(stream);
        stream.set_read_timeout(Some(self.read_timeout));
        (Box::pin(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
