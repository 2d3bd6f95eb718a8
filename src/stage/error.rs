//! The ordered stages' one error type: a stage that cannot go on, because a sort could not
//! spill or read back its temporary files, or because it holds as many groups, keys or
//! entities as `--max-groups` allows. The message never has the `evq: ` prefix (`messages`
//! adds it); every stage error stops the run with the input status, as too much input does.

use crate::exit::ExitStatus;
use std::io;

#[derive(Debug, thiserror::Error)]
pub(crate) enum StageError {
    /// `sort` could not write the events it holds to a temporary file.
    #[error(
        "sort: cannot spill to a temporary file: {0}; point TMPDIR at a directory with room, or raise --memory-limit"
    )]
    SortSpill(#[source] io::Error),
    /// `sort` could not read back a temporary file it spilled to.
    #[error("sort: cannot read a temporary file: {0}")]
    SortRead(#[source] io::Error),
    /// A stage reached `--max-groups`: more than `limit` of `what` (`groups`, `keys`…);
    /// `or` is another way out, after the flag's (`, or keep only some fields first …`).
    #[error("{stage}: more than {limit} {what}; raise the limit with --max-groups N{or}")]
    TooMany {
        stage: &'static str,
        limit: usize,
        what: &'static str,
        or: &'static str,
    },
}

impl StageError {
    /// `stage` holds more than `limit` of `what`, and `--max-groups` is the only way out.
    pub(crate) fn too_many(stage: &'static str, limit: usize, what: &'static str) -> StageError {
        StageError::TooMany {
            stage,
            limit,
            what,
            or: "",
        }
    }

    /// Whether what the stages hold is still right after this error, and is output: a sort's
    /// events are (the run stops taking events, as after `--strict`'s dead letter), but a
    /// stage past `--max-groups` has left events out of its groups, so no row it would give
    /// is output, nor anything after it.
    pub(crate) fn spoils_what_is_held(&self) -> bool {
        matches!(self, StageError::TooMany { .. })
    }

    /// The exit status of a run this error stopped.
    pub(crate) fn status(&self) -> ExitStatus {
        ExitStatus::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sort_that_cannot_spill_says_so_and_why() {
        let e = StageError::SortSpill(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        assert_eq!(
            e.to_string(),
            "sort: cannot spill to a temporary file: disk full; point TMPDIR at a directory with room, or raise --memory-limit"
        );
        let e = StageError::SortRead(io::Error::new(io::ErrorKind::UnexpectedEof, "cut short"));
        assert_eq!(e.to_string(), "sort: cannot read a temporary file: cut short");
        assert_eq!(e.status(), ExitStatus::Input);
    }

    #[test]
    fn too_many_names_the_stage_the_limit_and_the_way_out() {
        let e = StageError::too_many("count", 10, "groups");
        assert_eq!(
            e.to_string(),
            "count: more than 10 groups; raise the limit with --max-groups N"
        );
        let e = StageError::TooMany {
            stage: "dedupe",
            limit: 5,
            what: "keys within the window",
            or: " or shorten the window",
        };
        assert_eq!(
            e.to_string(),
            "dedupe: more than 5 keys within the window; raise the limit with --max-groups N or shorten the window"
        );
        assert_eq!(e.status(), ExitStatus::Input);
    }
}
