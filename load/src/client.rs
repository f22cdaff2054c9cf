//! HTTP/1.1 client connections to the target, and the loopback-only rule.
//!
//! Every load connection is one hyper connection owned by one task: no pool, no lock, no
//! shared state on the hot path. The same connections serve the readiness probes and the
//! `/metrics` polls (one short-lived connection each).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, ORIGIN, USER_AGENT};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::traffic;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the load goes: a loopback address and the `Host` header for it.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: HeaderValue,
    /// The URL as given, without a trailing slash.
    pub base: String,
}

impl Target {
    /// Parses `http://HOST:PORT` and resolves it, refusing anything but a loopback address:
    /// this tool only loads servers on the same machine.
    ///
    /// # Errors
    /// Not an `http://` URL, a path given, not resolvable, or not a loopback address.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let base = url.trim_end_matches('/');
        let Some(authority) = base.strip_prefix("http://") else {
            bail!("target `{url}` must be an http:// URL such as http://127.0.0.1:8080");
        };
        if authority.contains('/') {
            bail!("target `{url}` must not have a path; give the server's root, such as http://127.0.0.1:8080");
        }
        let with_port = if authority.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addresses: Vec<SocketAddr> =
            with_port.to_socket_addrs().with_context(|| format!("resolving the target {url}"))?.collect();
        let Some(addr) = addresses.iter().find(|a| a.ip().is_loopback()).copied() else {
            bail!("target `{url}` is not a loopback address; footfall-load only sends load to this machine (127.0.0.0/8, ::1, localhost)");
        };
        Ok(Self { addr, host: HeaderValue::from_str(authority)?, base: base.to_string() })
    }
}

/// One open HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

/// How a request on a connection ended without an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer within the timeout (the connection is then unusable).
    TimedOut,
    /// The connection broke.
    Broken,
}

impl Connection {
    /// Opens a connection (TCP_NODELAY, as browsers and proxies use).
    ///
    /// # Errors
    /// When the connection is refused or not open within 2 s.
    pub async fn open(target: &Target) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr))
            .await
            .with_context(|| format!("connecting to {} timed out", target.base))?
            .with_context(|| format!("connecting to {}", target.base))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    /// True while the connection can take another request.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one request and reads the whole answer, within `timeout`.
    pub async fn send(
        &mut self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes), Failure> {
        let exchange = async {
            self.sender.ready().await.map_err(|_| Failure::Broken)?;
            let response = self.sender.send_request(request).await.map_err(|_| Failure::Broken)?;
            let status = response.status();
            let body = response.into_body().collect().await.map_err(|_| Failure::Broken)?.to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(timeout, exchange).await.unwrap_or(Err(Failure::TimedOut))
    }
}

/// `POST /api/event` for one generated request.
pub fn event_request(target: &Target, request: traffic::Request) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/api/event")
        .header(HOST, target.host.clone())
        .header(CONTENT_TYPE, request.content_type)
        .header(USER_AGENT, request.user_agent);
    if let Some(origin) = request.origin {
        builder = builder.header(ORIGIN, origin);
    }
    builder.body(Full::new(Bytes::from(request.body))).expect("generated requests are valid HTTP")
}

/// One request on a fresh connection, for probes and `/metrics`.
///
/// # Errors
/// When the connection cannot be opened or the request gets no answer within `timeout`.
pub async fn one_shot(
    target: &Target,
    request: Request<Full<Bytes>>,
    timeout: Duration,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let mut connection = Connection::open(target).await?;
    connection.send(request, timeout).await.map_err(|failure| match failure {
        Failure::TimedOut => anyhow::anyhow!("{} did not answer within {timeout:?}", target.base),
        Failure::Broken => anyhow::anyhow!("{} closed the connection without an answer", target.base),
    })
}

/// `GET path` on the target.
pub fn get(target: &Target, path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(HOST, target.host.clone())
        .body(Full::new(Bytes::new()))
        .expect("valid GET request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        let target = Target::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(target.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(target.base, "http://127.0.0.1:8080");
        assert_eq!(target.host, "127.0.0.1:8080");
        assert!(Target::parse("http://localhost:9").unwrap().addr.ip().is_loopback());
        assert_eq!(Target::parse("http://[::1]:8080").unwrap().addr, "[::1]:8080".parse().unwrap());
        assert_eq!(Target::parse("http://127.0.0.2").unwrap().addr.port(), 80);
        for refused in ["http://10.0.0.1:8080", "http://192.168.1.1", "http://8.8.8.8:80", "https://127.0.0.1:8080"] {
            assert!(Target::parse(refused).is_err(), "{refused} must be refused");
        }
        assert!(Target::parse("http://127.0.0.1:8080/api/event").is_err());
    }
}
