//! One push: the metrics text sent to the gateway over hyper's client, the
//! whole exchange bounded in time, and the gateway's answer read into an
//! [`ExportError`] when it is not a success.

use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::exporter::error::ExportError;

/// The most of a refusal's body kept for the error message.
const MAX_ERROR_BODY: usize = 1024;

/// A configured connection to one grouping key of one gateway.
pub(crate) struct Gateway {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: Uri,
    method: Method,
    authorization: Option<HeaderValue>,
    timeout: Duration,
}

impl Gateway {
    /// A client for `endpoint` that connects within `connect_timeout` and
    /// gives up on a push after `timeout` in all. Keeps no idle
    /// connection: pushes are seconds apart, and a pooled connection the
    /// gateway has closed meanwhile would fail the next push.
    pub(crate) fn new(
        endpoint: Uri,
        method: Method,
        authorization: Option<HeaderValue>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Gateway {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .build(connector);
        Gateway {
            http,
            endpoint,
            method,
            authorization,
            timeout,
        }
    }

    /// The endpoint, for messages.
    pub(crate) fn url(&self) -> String {
        self.endpoint.to_string()
    }

    /// Sends `text`; `Ok` on a 2xx answer. Must run inside a tokio runtime
    /// with I/O and time enabled.
    pub(crate) async fn push(&self, text: String) -> Result<(), ExportError> {
        let mut request = Request::new(Full::new(Bytes::from(text)));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.endpoint.clone();
        let headers = request.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(crate::exporter::CONTENT_TYPE),
        );
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("trace-runtime/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(authorization) = &self.authorization {
            headers.insert(AUTHORIZATION, authorization.clone());
        }
        let exchange = async {
            let response =
                self.http
                    .request(request)
                    .await
                    .map_err(|err| ExportError::PushRequest {
                        url: self.url(),
                        source: Box::new(err),
                    })?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            // Whatever the gateway says, at most MAX_ERROR_BODY bytes of it.
            let mut body = response.into_body();
            let mut kept = Vec::new();
            while kept.len() < MAX_ERROR_BODY {
                let Some(Ok(frame)) = body.frame().await else {
                    break;
                };
                if let Ok(data) = frame.into_data() {
                    let room = MAX_ERROR_BODY - kept.len();
                    kept.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            let body = String::from_utf8_lossy(&kept);
            Err(ExportError::PushRejected {
                url: self.url(),
                status: status.as_u16(),
                body: body.trim().to_owned(),
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| ExportError::PushTimeout {
                url: self.url(),
                after: self.timeout,
            })?
    }
}
