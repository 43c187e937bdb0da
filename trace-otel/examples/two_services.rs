//! Two traced axum services, one trace across both: `lobby` serves
//! `GET /rooms/{name}` and asks `rooms` (`GET /rooms/{name}/players`)
//! through a hyper client with `TraceparentLayer`; each exports its call
//! trees over OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`, default
//! 127.0.0.1:4318).
//!
//! ```sh
//! cargo run -p trace-otel --example two_services                 # both, in one process
//! cargo run -p trace-otel --example two_services -- --role rooms # or one each:
//! cargo run -p trace-otel --example two_services -- --role lobby --requests 3
//! ```
//!
//! With `--requests N`, the process sends N requests to `lobby` itself, as
//! a caller in another service would (with a `traceparent` of its own, so
//! the trace id is known), prints each trace id, exports and exits;
//! without it, it serves until Ctrl-C. The room `closed` fails in `rooms`
//! (500), so `lobby` answers 502: a trace with errors in both services.

use std::hash::{BuildHasher as _, RandomState};
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Layer as _, ServiceExt as _};
use trace_otel::propagate::{TraceparentLayer, TraceparentService};
use trace_runtime::http::TraceLayer;
use trace_runtime::instrument_all;

type Traced = TraceparentService<Client<HttpConnector, Empty<Bytes>>>;

#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the room is closed")
    }
}

/// The `rooms` service.
struct Rooms;

#[instrument_all]
impl Rooms {
    async fn players(name: String) -> Result<String, Closed> {
        let room = Self::load(&name).await?;
        Ok(format!("{room}: ann, bob"))
    }

    // The error text and the room's name are recorded on the node, and
    // exported as the span's status description and an attribute.
    #[trace(err, fields(name))]
    async fn load(name: &str) -> Result<String, Closed> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if name == "closed" {
            Err(Closed)
        } else {
            Ok(name.to_owned())
        }
    }
}

async fn players(Path(name): Path<String>) -> Result<String, StatusCode> {
    Rooms::players(name)
        .await
        .map_err(|Closed| StatusCode::INTERNAL_SERVER_ERROR)
}

/// The `lobby` service.
struct Lobby;

#[instrument_all]
impl Lobby {
    async fn show_room(
        client: Traced,
        rooms: SocketAddr,
        name: String,
    ) -> Result<String, StatusCode> {
        let uri = format!("http://{rooms}/rooms/{name}/players");
        let request = hyper::Request::get(uri)
            .body(Empty::new())
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        let response = client
            .oneshot(request)
            .await
            .map_err(|_| StatusCode::BAD_GATEWAY)?;
        if !response.status().is_success() {
            return Err(StatusCode::BAD_GATEWAY);
        }
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| StatusCode::BAD_GATEWAY)?;
        Ok(Self::page(&String::from_utf8_lossy(&body.to_bytes())))
    }

    fn page(players: &str) -> String {
        format!("players of {players}\n")
    }
}

async fn room(
    State((client, rooms)): State<(Traced, SocketAddr)>,
    Path(name): Path<String>,
) -> Result<String, StatusCode> {
    Lobby::show_room(client, rooms, name).await
}

struct Options {
    role: String,
    lobby: SocketAddr,
    rooms: SocketAddr,
    requests: Option<u32>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        role: "both".to_owned(),
        lobby: SocketAddr::from(([127, 0, 0, 1], 8081)),
        rooms: SocketAddr::from(([127, 0, 0, 1], 8082)),
        requests: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let addr = |v: &str| {
            v.parse()
                .map_err(|_| format!("{flag}: not an ip:port: {v}"))
        };
        match flag.as_str() {
            "--role" if ["both", "lobby", "rooms"].contains(&value.as_str()) => options.role = value,
            "--lobby" => options.lobby = addr(&value)?,
            "--rooms" => options.rooms = addr(&value)?,
            "--requests" => {
                options.requests = Some(value.parse().map_err(|_| format!("--requests: not a count: {value}"))?);
            }
            _ => return Err(format!("unknown option {flag} {value}: --role both|lobby|rooms, --lobby, --rooms, --requests")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let name = if options.role == "both" {
        "lobby+rooms"
    } else {
        options.role.as_str()
    };
    let otlp = trace_otel::OtlpBuilder::new()
        .service_name(std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| name.to_owned()))
        .scheduled_delay(Duration::from_millis(200))
        .install()?;
    let mut rooms = options.rooms;
    if options.role != "lobby" {
        let app = Router::new()
            .route("/rooms/{name}/players", get(players))
            .layer(TraceLayer::new());
        let listener = tokio::net::TcpListener::bind(rooms).await?;
        rooms = listener.local_addr()?;
        println!("rooms on http://{rooms}");
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let mut lobby = options.lobby;
    if options.role != "rooms" {
        let client = TraceparentLayer.layer(Client::builder(TokioExecutor::new()).build_http());
        let app = Router::new()
            .route("/rooms/{name}", get(room))
            .layer(TraceLayer::new())
            .with_state((client, rooms));
        let listener = tokio::net::TcpListener::bind(lobby).await?;
        lobby = listener.local_addr()?;
        println!("lobby on http://{lobby}");
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    match options.requests {
        Some(count) if options.role != "rooms" => send(lobby, count).await?,
        _ => tokio::signal::ctrl_c().await?,
    }
    // The last trees are delivered as their responses go out.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (flushed, stats) = tokio::task::spawn_blocking(move || {
        let flushed = otlp.flush();
        let stats = otlp.stats();
        otlp.shutdown();
        (flushed, stats)
    })
    .await?;
    println!("flushed: {flushed}; {stats:?}");
    Ok(())
}

/// `count` requests to `lobby`, each as the start of a trace of its own.
async fn send(lobby: SocketAddr, count: u32) -> Result<(), Box<dyn std::error::Error>> {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    for i in 0..count {
        let room = if i % 3 == 2 { "closed" } else { "lobby" };
        let random = || RandomState::new().hash_one((i, std::time::SystemTime::now()));
        let trace_id = format!("{:016x}{:016x}", random(), random());
        let parent = format!("{:016x}", u64::from(i) + 1);
        let caller = format!("00-{trace_id}-{parent}-01");
        let request = hyper::Request::get(format!("http://{lobby}/rooms/{room}"))
            .header("traceparent", &caller)
            .body(Empty::new())?;
        let status = client.request(request).await?.status();
        println!(
            "GET /rooms/{room} -> {} trace {trace_id} parent {parent}",
            status.as_u16()
        );
    }
    Ok(())
}
