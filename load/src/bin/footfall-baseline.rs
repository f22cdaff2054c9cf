//! `footfall-baseline`: the yardstick for footfall's ingest throughput. An actix-web server
//! whose `POST /api/event` and `POST /api/events` read the whole request body and answer
//! 204, doing nothing else. (A route that ignores the body makes actix-web answer with
//! `connection: close`, so every request would pay a new TCP connection.)

use std::net::SocketAddr;

use actix_web::{web, App, HttpResponse, HttpServer};
use clap::Parser;

/// A server that reads each event request's body and answers 204.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on (loopback; port 0 picks one, printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Worker threads (default: one per core, as footfall).
    #[arg(long)]
    workers: Option<usize>,
}

async fn ingest(body: web::Bytes) -> HttpResponse {
    std::hint::black_box(body);
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    let mut server = HttpServer::new(|| {
        App::new().route("/api/event", web::post().to(ingest)).route("/api/events", web::post().to(ingest))
    })
    .bind(cli.listen)?;
    if let Some(workers) = cli.workers {
        server = server.workers(workers);
    }
    for address in server.addrs() {
        println!("footfall-baseline listening on http://{address}");
    }
    server.run().await
}
