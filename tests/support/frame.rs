//! Reading one `Content-Length` framed JSON-RPC message, as a client does: shared by the
//! black-box test client (`tests/support/mod.rs`) and the benchmark's client
//! (`bench/src/lsp.rs`, which includes this file by path). Independent of the server's own
//! transport on purpose: the tests must not read the server's output with the server's code.

use std::io::BufRead;

use serde_json::Value;

/// Reads one `Content-Length` framed JSON message; `None` at the end of the stream or on a
/// malformed frame (the reader then stops, and the caller sees the disconnection).
pub fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    parse_body(&read_body(reader)?)
}

/// Reads one `Content-Length` framed message's body, unparsed; `None` at the end of the stream
/// or on a malformed header.
pub fn read_body(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().ok()?);
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

/// A message's body as JSON; `None` (said on stderr) when it is not JSON.
pub fn parse_body(body: &[u8]) -> Option<Value> {
    match serde_json::from_slice(body) {
        Ok(value) => Some(value),
        Err(e) => {
            eprintln!(
                "client: unparsable message from the server ({e}): {}",
                String::from_utf8_lossy(body)
            );
            None
        }
    }
}
