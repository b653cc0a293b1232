//! The edits a document made lately, so that what kept an earlier version of it (the line
//! scan keeps its last text, see `rescan.rs`) learns what changed since without comparing the
//! two texts: at 100k lines, comparing them from both ends walked every chunk of both ropes,
//! a quarter of an outline pass after a line break.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use super::text::TextChange;

/// Edits remembered: typing in a paragraph runs no outline pass, so a few hundred keystrokes
/// may come between two; older than this, the texts are compared instead.
const REMEMBERED: usize = 256;

/// A version of a document, as its [`EditLog`] names it: made apart, two documents never
/// share a lineage; a snapshot shares its document's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    lineage: u64,
    edits: u64,
}

/// The last [`REMEMBERED`] edits of a document.
#[derive(Clone, Debug)]
pub struct EditLog {
    now: Revision,
    /// Oldest first; the last one made `now`.
    recent: VecDeque<TextChange>,
}

impl Default for EditLog {
    fn default() -> Self {
        static LINEAGES: AtomicU64 = AtomicU64::new(0);
        EditLog {
            now: Revision {
                lineage: LINEAGES.fetch_add(1, Ordering::Relaxed),
                edits: 0,
            },
            recent: VecDeque::new(),
        }
    }
}

impl EditLog {
    /// The version the last edit made.
    pub fn revision(&self) -> Revision {
        self.now
    }

    /// Notes an edit just made; the oldest one remembered is forgotten when there are too many.
    pub fn record(&mut self, change: TextChange) {
        if self.recent.len() == REMEMBERED {
            self.recent.pop_front();
        }
        self.recent.push_back(change);
        self.now.edits += 1;
    }

    /// Every edit made since `since`, as one change that covers them all (it may cover bytes
    /// that are the same again, as when a character typed is deleted); an empty change at 0
    /// when there was none. `None` when `since` is not an earlier version of this document's,
    /// or older than the edits remembered.
    pub fn since(&self, since: Revision) -> Option<TextChange> {
        if since.lineage != self.now.lineage || since.edits > self.now.edits {
            return None;
        }
        let count = usize::try_from(self.now.edits - since.edits).ok()?;
        if count > self.recent.len() {
            return None;
        }
        let mut edits = self.recent.range(self.recent.len() - count..).copied();
        let first = edits.next().unwrap_or(TextChange {
            start: 0,
            old_end: 0,
            new_end: 0,
        });
        Some(edits.fold(first, TextChange::then))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A text after a change: `text[start..old_end]` became `inserted`.
    fn edited(text: &str, change: TextChange, inserted: &str) -> String {
        format!(
            "{}{inserted}{}",
            &text[..change.start],
            &text[change.old_end..]
        )
    }

    proptest! {
        /// What the joined change covers is all that differs: the texts agree before and after
        /// it.
        #[test]
        fn joined_edits_cover_every_byte_that_changed(
            text in "[a-c]{0,40}",
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..5, "[x-z]{0,4}"), 0..8),
            from in any::<prop::sample::Index>(),
        ) {
            let mut log = EditLog::default();
            let mut texts = vec![(text.clone(), log.revision())];
            let mut text = text;
            for (at, removed, inserted) in edits {
                let start = at.index(text.len() + 1);
                let old_end = (start + removed).min(text.len());
                let change = TextChange { start, old_end, new_end: start + inserted.len() };
                text = edited(&text, change, &inserted);
                log.record(change);
                texts.push((text.clone(), log.revision()));
            }
            let (old, revision) = &texts[from.index(texts.len())];
            let c = log.since(*revision).unwrap();
            prop_assert!(c.start <= c.old_end && c.old_end <= old.len());
            prop_assert!(c.start <= c.new_end && c.new_end <= text.len());
            prop_assert_eq!(old.len() - c.old_end, text.len() - c.new_end);
            prop_assert_eq!(&old[..c.start], &text[..c.start]);
            prop_assert_eq!(&old[c.old_end..], &text[c.new_end..]);
        }
    }

    #[test]
    fn other_documents_and_forgotten_edits_are_unknown() {
        let (mut log, other) = (EditLog::default(), EditLog::default());
        let start = log.revision();
        assert_eq!(log.since(other.revision()), None);
        assert_eq!(
            log.since(start),
            Some(TextChange {
                start: 0,
                old_end: 0,
                new_end: 0
            })
        );
        let typed = |at| TextChange {
            start: at,
            old_end: at,
            new_end: at + 1,
        };
        for at in 0..REMEMBERED {
            log.record(typed(at));
        }
        assert_eq!(
            log.since(start),
            Some(TextChange {
                start: 0,
                old_end: 0,
                new_end: REMEMBERED
            })
        );
        log.record(typed(REMEMBERED));
        assert_eq!(log.since(start), None);
        let later = log.revision();
        assert_eq!(other.since(later), None);
    }
}
