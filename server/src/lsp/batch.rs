//! Messages read from the client together are handed to tower-lsp together, and a run of
//! `didChange` notifications of one document among them becomes one.
//!
//! A client that sends changes faster than the server handles them (a burst of keystrokes, a
//! macro, a multi-cursor edit) leaves them queued in the input. Handled one by one, each would
//! cost a dispatch through tower-lsp, a version to analyse and a thread woken for it, and the
//! server would fall behind. Instead, as rust-analyzer drains its queue before it analyses,
//! the changes that were already read when the batch is handled are applied as one change
//! notification with all their `contentChanges`, in order, and the last version: the protocol
//! applies a notification's changes one after the other, exactly as it applies consecutive
//! notifications, and intermediate versions may be skipped. Only consecutive changes merge: a
//! request between two changes still sees the document as it was when it was sent.

use serde::Deserialize;
use serde_json::Value;
use tower_lsp_server::jsonrpc::Request;
use tower_lsp_server::ls_types::notification::{DidChangeTextDocument, Notification as _};
use tower_lsp_server::ls_types::{DidChangeTextDocumentParams, Uri};

use super::transport::Message;

const DID_CHANGE: &str = DidChangeTextDocument::METHOD;

/// The document a message changes, if it is a `didChange` notification tower-lsp accepts:
/// checked on each one before it joins a run, so one malformed change does not spoil the
/// others.
fn changed(message: &Message) -> Option<Uri> {
    let Message::Request(request) = message else {
        return None;
    };
    if request.id().is_some() || request.method() != DID_CHANGE {
        return None;
    }
    let change = DidChangeTextDocumentParams::deserialize(request.params()?).ok()?;
    Some(change.text_document.uri)
}

/// A run of changes to one document being merged: the first's parameters, extended.
struct Run {
    uri: Uri,
    params: Value,
    count: usize,
}

/// The messages to hand over, in order, with each run of consecutive changes to one document
/// merged into one notification. Messages outside a run pass unchanged.
pub fn coalesce(messages: Vec<Message>) -> Vec<Message> {
    if messages.len() < 2 {
        return messages;
    }
    let mut out = Vec::with_capacity(messages.len());
    let mut run: Option<Run> = None;
    for message in messages {
        let Some(uri) = changed(&message) else {
            out.extend(run.take().map(finish));
            out.push(message);
            continue;
        };
        let Message::Request(request) = message else {
            unreachable!("a change is a request");
        };
        let (_, _, params) = request.into_parts();
        let params = params.expect("a change has parameters");
        match &mut run {
            Some(current) if current.uri == uri => {
                // Both checked above: the version is a number, the changes an array.
                let Value::Object(mut next) = params else {
                    unreachable!("checked");
                };
                current.params["textDocument"]["version"] = next["textDocument"]["version"].take();
                if let (Some(all), Some(Value::Array(more))) = (
                    current.params["contentChanges"].as_array_mut(),
                    next.remove("contentChanges"),
                ) {
                    all.extend(more);
                }
                current.count += 1;
            }
            _ => {
                out.extend(run.take().map(finish));
                run = Some(Run {
                    uri,
                    params,
                    count: 1,
                });
            }
        }
    }
    out.extend(run.map(finish));
    out
}

/// The notification of a finished run.
fn finish(run: Run) -> Message {
    if run.count > 1 {
        tracing::debug!(
            "{} changes of {} read together, up to version {}: handled as one",
            run.count,
            run.uri.as_str(),
            run.params["textDocument"]["version"]
        );
    }
    Message::Request(Request::build(DID_CHANGE).params(run.params).finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: Value) -> Message {
        crate::lsp::transport::tests::parsed(&value.to_string())
    }

    fn change(uri: &str, version: i32, line: u32, text: &str) -> Message {
        message(json!({
            "jsonrpc": "2.0",
            "method": DID_CHANGE,
            "params": {
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{
                    "range": {
                        "start": { "line": line, "character": 0 },
                        "end": { "line": line, "character": 0 }
                    },
                    "text": text
                }]
            }
        }))
    }

    fn request(id: i32) -> Message {
        message(json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {} }))
    }

    /// Each message as `method uri version [texts]`, or `method` for the others.
    fn summary(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|m| {
                let Message::Request(r) = m else {
                    return "response".to_string();
                };
                if r.method() != DID_CHANGE {
                    return r.method().to_string();
                }
                let params = r.params().unwrap();
                let texts: Vec<&str> = params["contentChanges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["text"].as_str().unwrap())
                    .collect();
                format!(
                    "{} {} {} {texts:?}",
                    r.method(),
                    params["textDocument"]["uri"].as_str().unwrap(),
                    params["textDocument"]["version"]
                )
            })
            .collect()
    }

    #[test]
    fn a_run_of_changes_to_one_document_becomes_one_with_the_last_version() {
        let a = "file:///a.md";
        let messages = vec![
            change(a, 2, 0, "x"),
            change(a, 3, 0, "y"),
            change(a, 4, 1, "z"),
        ];
        expect_test::expect![[r#"
            [
                "textDocument/didChange file:///a.md 4 [\"x\", \"y\", \"z\"]",
            ]
        "#]]
        .assert_debug_eq(&summary(&coalesce(messages)));
    }

    #[test]
    fn requests_responses_and_other_documents_end_a_run() {
        let (a, b) = ("file:///a.md", "file:///b.md");
        let messages = vec![
            change(a, 2, 0, "1"),
            change(a, 3, 0, "2"),
            request(7),
            change(a, 4, 0, "3"),
            change(b, 9, 0, "4"),
            change(b, 10, 0, "5"),
            message(json!({ "jsonrpc": "2.0", "id": 1, "result": null })),
            change(b, 11, 0, "6"),
            change(a, 5, 0, "7"),
        ];
        expect_test::expect![[r#"
            [
                "textDocument/didChange file:///a.md 3 [\"1\", \"2\"]",
                "textDocument/hover",
                "textDocument/didChange file:///a.md 4 [\"3\"]",
                "textDocument/didChange file:///b.md 10 [\"4\", \"5\"]",
                "response",
                "textDocument/didChange file:///b.md 11 [\"6\"]",
                "textDocument/didChange file:///a.md 5 [\"7\"]",
            ]
        "#]]
        .assert_debug_eq(&summary(&coalesce(messages)));
    }

    #[test]
    fn a_change_tower_lsp_would_refuse_joins_no_run_and_passes_as_it_came() {
        let a = "file:///a.md";
        // No version: tower-lsp logs and drops it; merged, it would take the others with it.
        let odd = message(json!({
            "jsonrpc": "2.0",
            "method": DID_CHANGE,
            "params": { "textDocument": { "uri": a }, "contentChanges": [] }
        }));
        let messages = vec![change(a, 2, 0, "x"), odd, change(a, 3, 0, "y")];
        let got = coalesce(messages.clone());
        assert_eq!(got, messages);
    }

    #[test]
    fn the_merged_notification_is_a_change_tower_lsp_accepts() {
        let a = "file:///a.md";
        let merged = coalesce(vec![change(a, 2, 0, "😀\r"), change(a, 3, 0, "\n中")]);
        let [Message::Request(request)] = &merged[..] else {
            panic!("not merged: {merged:?}");
        };
        assert_eq!(request.id(), None);
        let params: tower_lsp_server::ls_types::DidChangeTextDocumentParams =
            serde_json::from_value(request.params().unwrap().clone()).unwrap();
        assert_eq!(params.text_document.version, 3);
        let texts: Vec<&str> = params
            .content_changes
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(texts, ["😀\r", "\n中"]);
    }
}
