//! The README's quick start: an axum service with one call tree per request,
//! HTTP and function metrics, and `/metrics`. Runs until Ctrl-C.
use axum::{extract::Path, http::StatusCode, routing::get, Router};
use trace_runtime::{http::TraceLayer, instrument_all};

struct Rooms;

#[instrument_all]
impl Rooms {
    async fn find(name: &str) -> Result<String, String> {
        Self::validate(name)?;
        Ok(format!("room {name}"))
    }

    fn validate(name: &str) -> Result<(), String> {
        if name.len() <= 16 {
            Ok(())
        } else {
            Err(format!("{name:?} is too long"))
        }
    }
}

async fn room(Path(name): Path<String>) -> Result<String, StatusCode> {
    Rooms::find(&name)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init(); // call trees are logged through `tracing`
    let exporter = trace_runtime::exporter_builder!().install()?;
    let app = Router::new()
        .route("/rooms/{name}", get(room))
        .layer(TraceLayer::new()) // one tree and the HTTP metrics per request
        .route("/metrics", trace_runtime::http::metrics_route(exporter));
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("try http://{addr}/rooms/lobby and http://{addr}/metrics");
    axum::serve(listener, app).await?;
    Ok(())
}
