//! A hand-rolled HTTP/1.1 front end for the demo (one request per
//! connection): parses the request, routes it to the traced services, and
//! runs each request as the root of its own call tree named `METHOD /path`.
//!
//! | route | calls |
//! |---|---|
//! | `GET /rooms` | `GameService::list_rooms` |
//! | `POST /rooms` (body: the name) | `GameService::create_room`, `AuditLog::record` |
//! | `GET /rooms/{id}` | `GameService::get_room` |
//! | `POST /rooms/{id}/join` | `GameService::join_room`, `AuditLog::record` |

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use trace_runtime::TraceFutureExt as _;

use crate::game::{AuditLog, GameError, GameService, Room};

/// Largest request head or body the demo accepts.
const MAX_REQUEST: usize = 16 * 1024;

/// The services every request handler uses.
pub struct App {
    pub game: GameService,
    pub audit: AuditLog,
}

struct Request {
    method: String,
    path: String,
    body: String,
}

struct Response {
    status: u16,
    body: String,
}

impl Response {
    fn new(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            body: body.into(),
        }
    }
}

/// Accepts connections until the process ends, one task per connection.
pub async fn serve(listener: TcpListener, app: Arc<App>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            // A broken connection concerns only its client.
            let _ = handle(stream, &app).await;
        });
    }
}

async fn handle(mut stream: TcpStream, app: &App) -> io::Result<()> {
    let response = match read_request(&mut stream).await? {
        Ok(request) => {
            // The root of this request's call tree. Its name is not a metric
            // label, so the id in a path cannot inflate metric cardinality.
            let name = format!("{} {}", request.method, request.path);
            route(app, &request).in_request(name).await
        }
        Err(problem) => Response::new(400, format!("{problem}\n")),
    };
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(response.body.as_bytes()).await?;
    stream.shutdown().await
}

/// Reads one request: `Ok(Err(..))` for a malformed one.
async fn read_request(stream: &mut TcpStream) -> io::Result<Result<Request, &'static str>> {
    let mut buf = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_REQUEST {
            return Ok(Err("request head too large"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Err("connection closed mid-request"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split_whitespace();
    let (Some(method), Some(target)) = (request_line.next(), request_line.next()) else {
        return Ok(Err("malformed request line"));
    };
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map_or(Ok(0), |(_, v)| v.trim().parse::<usize>());
    let Ok(length) = length else {
        return Ok(Err("bad Content-Length"));
    };
    if length > MAX_REQUEST {
        return Ok(Err("body too large"));
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Err("connection closed mid-body"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(Ok(Request {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or("/").to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

async fn route(app: &App, request: &Request) -> Response {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["rooms"]) => {
            let rooms = app.game.list_rooms().await;
            let mut body = String::new();
            for room in &rooms {
                let _ = writeln!(body, "{}", describe(room));
            }
            Response::new(200, body)
        }
        ("POST", ["rooms"]) => {
            let name = request.body.trim();
            let created = app.game.create_room(name).await;
            app.audit
                .record(format!("create {name:?}: {}", outcome(&created)))
                .await;
            match created {
                Ok(room) => Response::new(201, format!("{}\n", describe(&room))),
                Err(err) => error_response(&err),
            }
        }
        ("GET", ["rooms", id]) => match id.parse() {
            Ok(id) => match app.game.get_room(id) {
                Some(room) => Response::new(200, format!("{}\n", describe(&room))),
                None => error_response(&GameError::NotFound(id)),
            },
            Err(_) => Response::new(400, "room ids are numbers\n"),
        },
        ("POST", ["rooms", id, "join"]) => match id.parse() {
            Ok(id) => {
                let joined = app.game.join_room(id).await;
                app.audit
                    .record(format!("join {id}: {}", outcome(&joined)))
                    .await;
                match joined {
                    Ok(room) => Response::new(200, format!("{}\n", describe(&room))),
                    Err(err) => error_response(&err),
                }
            }
            Err(_) => Response::new(400, "room ids are numbers\n"),
        },
        _ => Response::new(
            404,
            "try GET /rooms, POST /rooms, GET /rooms/{id}, POST /rooms/{id}/join\n",
        ),
    }
}

fn describe(room: &Room) -> String {
    format!("{} {} {}/4", room.id, room.name, room.players)
}

fn outcome(result: &Result<Room, GameError>) -> String {
    match result {
        Ok(room) => format!("ok (room {})", room.id),
        Err(err) => err.to_string(),
    }
}

fn error_response(err: &GameError) -> Response {
    let status = match err {
        GameError::InvalidName(_) => 400,
        GameError::NotFound(_) => 404,
        GameError::NameTaken(_) | GameError::Full(_) => 409,
        GameError::StorageUnavailable => 503,
    };
    Response::new(status, format!("{err}\n"))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        503 => "Service Unavailable",
        _ => "",
    }
}
