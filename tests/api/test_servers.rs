//! scripts/clickhouse never uses, writes into or stops a server it did not start: with an
//! unrelated server on the `reliability` instance's port, `start` refuses and names the
//! port, `free` says it is taken, `stop` leaves it alone (scripts/test then picks another
//! port offset, `CLICKHOUSE_PORT_OFFSET`).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// HTTP port of the `reliability` instance at offset 0.
const RELIABILITY_HTTP_PORT: i64 = 28123;

/// What `scripts/clickhouse COMMAND reliability` does at port offset `offset`.
fn scripts_clickhouse(command: &str, offset: i64) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clickhouse");
    std::process::Command::new(script)
        .args([command, "reliability"])
        .env("CLICKHOUSE_PORT_OFFSET", offset.to_string())
        .output()
        .expect("scripts/clickhouse runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_scripts_clickhouse_did_not_start_is_left_alone() {
    // An unrelated server that answers like a ClickHouse and records every request.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = i64::from(listener.local_addr().unwrap().port());
    let requests = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&requests);
    let server = tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 4096];
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                if read > 0 {
                    let head = String::from_utf8_lossy(&buffer[..read]);
                    seen.lock().unwrap().push(head.lines().next().unwrap_or_default().to_string());
                    let _ = socket.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n1\n").await;
                }
            });
        }
    });
    let offset = port - RELIABILITY_HTTP_PORT;
    let dir = String::from_utf8(scripts_clickhouse("dir", offset).stdout).unwrap().trim().to_string();
    let pid_file = format!("{dir}/clickhouse-server.pid");

    let started = scripts_clickhouse("start", offset);
    let said = String::from_utf8_lossy(&started.stderr);
    assert_eq!(started.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "port {port} (HTTP) of instance reliability is held by a process scripts/clickhouse did not start"
        )),
        "{said}"
    );
    assert!(said.contains("CLICKHOUSE_PORT_OFFSET"), "{said}");
    assert!(!std::path::Path::new(&pid_file).exists(), "no server was started");

    let free = scripts_clickhouse("free", offset);
    assert_eq!(free.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&free.stdout).contains(&format!("port {port} (HTTP) is taken")));
    assert_eq!(scripts_clickhouse("status", offset).status.code(), Some(3), "answers, but is not ours");
    let stopped = scripts_clickhouse("stop", offset);
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("leaving it alone"));

    // The server still runs and saw nothing but the read-only probes `SELECT 1`.
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port as u16)).await.is_ok());
    let requests = requests.lock().unwrap().clone();
    assert!(requests.iter().all(|line| line.starts_with("GET /?query=SELECT%201 ")), "{requests:?}");
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
