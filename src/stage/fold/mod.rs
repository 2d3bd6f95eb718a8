//! `fold by KEYS [from PATH] [emit final|changes]`: event sourcing. Each entity's state is
//! rebuilt by applying its events in input order as JSON merge patches (RFC 7386: a field
//! set to `null` is deleted, objects merge, anything else replaces). The output per entity
//! is its keys, the state's fields, `_events` (how many events built it) and `_last` (the
//! last event's time, as written, when it had one). `emit final` (the default) gives one
//! row per entity at the end of input, in first-seen order; `emit changes` gives the row
//! after every event, a CQRS read-model feed.
//!
//! An event's patch is read once into [`Patches`] ([`patch`]): nodes that place its members'
//! keys and JSON texts, read from the event's text in one walk. A [`State`] ([`state`]) holds
//! an entity's value as slots and texts: applying a patch sets the members it names in place,
//! and rows are written from those texts without parsing them. With `emit final` right after
//! the parallel part, the workers read their chunks' patches ([`FoldPart`]) and the ordered
//! part only merges them, in input order, finding a part's entities first so that their cache
//! misses overlap.

mod patch;
mod state;

use super::group::{put_key, write_key};
use super::{Describe, Emit, Ordered, Partial, PartialSpec, StageError, TimeField};
use crate::event::{Event, Fate, Needs, Origin};
use crate::json;
use crate::lang::Env;
use crate::lang::Expr;
use crate::lang::ast::{KeyName, KeySpec, Path, Seg};
use patch::Patches;
use serde_json::{Map, Value};
use state::{Keys, Merger, Part, State};
use std::hash::BuildHasher;
use std::ops::{ControlFlow, Range};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub(crate) struct Fold {
    pub spec: Arc<FoldSpec>,
    table: Table,
    /// Scratch space for one event's key, time and patch.
    canon: Vec<u8>,
    text: Vec<u8>,
    time: Vec<u8>,
    patch: Patches,
    merger: Merger,
    /// The states' keys.
    names: Keys,
    /// Scratch space for a row's text, and for a part's entities.
    row_text: String,
    ids: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct FoldSpec {
    keys: Vec<KeySpec>,
    from: Option<Path>,
    changes: bool,
    time: TimeField,
    max: usize,
    /// Hashes canonical keys, on the workers and in the table alike.
    hasher: foldhash::fast::RandomState,
    /// Parts the ordered part has applied, emptied, for workers to fill again: their buffers
    /// are not allocated (and their pages not faulted in) afresh for every chunk.
    spare: Mutex<Vec<FoldPart>>,
}

/// How many events' states are read at once, a batch ahead of those being applied, so that
/// their cache misses overlap (see [`Fold::apply_part`]).
const READ_AHEAD: usize = 16;

/// How many emptied parts are kept for reuse.
const SPARE_PARTS: usize = 8;

/// The entities, in first-seen order.
#[derive(Debug, Clone, Default)]
struct Table {
    /// Entity number by canonical key, with the key's hash (see [`FoldSpec::hash`]).
    index: hashbrown::HashTable<(u64, Canon, usize)>,
    entities: Vec<Entity>,
}

#[derive(Debug, Clone)]
struct Entity {
    /// The keys' JSON text, as first seen.
    key: Box<[u8]>,
    state: State,
    events: u64,
}

/// A chunk's events as the ordered part applies them: each one's entity key, time and patch.
#[derive(Debug, Clone, Default)]
pub(crate) struct FoldPart {
    /// The events' canonical keys, their keys' JSON text and their times' JSON text, back to back.
    keys: Vec<u8>,
    events: Vec<PartEvent>,
    patches: Patches,
    /// Scratch space for one event's key text.
    text: Vec<u8>,
}

#[derive(Debug, Clone)]
struct PartEvent {
    canon: Range<usize>,
    hash: u64,
    key: Range<usize>,
    /// Empty when the event has no time.
    last: Range<usize>,
    /// Its patch's nodes in `patches`.
    patch: Range<usize>,
}

impl Fold {
    pub(crate) fn new(keys: Vec<KeySpec>, from: Option<Path>, changes: bool, time: TimeField, max: usize) -> Fold {
        Fold {
            spec: Arc::new(FoldSpec {
                keys,
                from,
                changes,
                time,
                max,
                hasher: foldhash::fast::RandomState::default(),
                spare: Mutex::default(),
            }),
            table: Table::default(),
            canon: Vec::new(),
            text: Vec::new(),
            time: Vec::new(),
            patch: Patches::default(),
            merger: Merger::default(),
            names: Keys::default(),
            row_text: String::new(),
            ids: Vec::new(),
        }
    }

    /// Whether each event's patch is the whole event (no `from`): every field is read.
    pub(crate) fn patches_whole_events(&self) -> bool {
        self.spec.from.is_none()
    }

    /// Applies a worker's chunk of events, the chunk after those applied so far; an error
    /// when its entities go past `--max-groups`, and then none of its events is applied.
    fn apply_part(&mut self, part: FoldPart) -> Result<(), StageError> {
        // All the events' entities are found first, so that the cache misses of finding them
        // overlap; then each state is read ahead of its turn, for the same reason.
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        for ev in &part.events {
            match self.table.entity(
                &part.keys[ev.canon.clone()],
                ev.hash,
                &part.keys[ev.key.clone()],
                self.spec.max,
            ) {
                Some(e) => ids.push(e),
                None => {
                    self.spec.recycle(part);
                    return Err(too_many(self.spec.max));
                }
            }
        }
        for (i, (&e, ev)) in ids.iter().zip(&part.events).enumerate() {
            if i % READ_AHEAD == 0 {
                let next = ids.get(i + READ_AHEAD..).unwrap_or_default();
                let touched = next
                    .iter()
                    .take(READ_AHEAD)
                    .map(|&e| self.table.entities[e].state.touch());
                std::hint::black_box(touched.fold(0, |a, b| a ^ b));
            }
            let patch = Patch {
                nodes: &part.patches.nodes[ev.patch.clone()],
                bytes: &part.patches.bytes,
                last: &part.keys[ev.last.clone()],
            };
            self.table.entities[e].apply(patch, &mut self.names, &mut self.merger);
        }
        self.ids = ids;
        self.spec.recycle(part);
        Ok(())
    }

    /// Entity `e` as output, JSON text written from the state's texts (only a member that a
    /// key's path goes into is parsed): its keys, its state's fields (a state that is not an
    /// object is `_state`), `_events` and `_last`. The row's own fields win: a state's member
    /// named like a key is left out (the key says which entity the row is), but an object that
    /// a key's path goes into (`user` for `by user.id`) keeps its other members; `_events` and
    /// `_last` take the place of state members so named.
    fn row(&self, e: usize, text: &mut String) {
        let entity = &self.table.entities[e];
        let mut keys = self.objects_keys_go_into(&entity.state);
        put_key(&self.spec.keys, &entity.key, &mut keys);
        let mut row: Vec<(&str, Piece)> = Vec::new();
        if let Value::Object(keys) = &keys {
            row.extend(keys.iter().map(|(name, v)| (name.as_str(), Piece::Value(v))));
        }
        // A key's path read as one flat key (`event.code` of `{"event.code":…}`) is the key too.
        let flat: Vec<String> = self
            .spec
            .keys
            .iter()
            .filter_map(|k| match &k.name {
                KeyName::Path(p) if p.segs.len() > 1 => Some(p.to_string()),
                _ => None,
            })
            .collect();
        let is_key =
            |name: &str| keys.as_object().is_some_and(|k| k.contains_key(name)) || flat.iter().any(|f| f == name);
        match entity.state.members(&self.names) {
            // A state's members have names of their own: only the keys' are looked up.
            Some(members) => row.extend(
                members
                    .filter(|(name, _)| !is_key(name))
                    .map(|(name, part)| (name, Piece::State(part))),
            ),
            None => put(&mut row, "_state", Piece::State(entity.state.whole(&self.names))),
        }
        let events = Value::from(entity.events);
        put(&mut row, "_events", Piece::Value(&events));
        put(&mut row, "_last", Piece::Text(entity.state.last().unwrap_or("null")));
        text.clear();
        state::write_object(text, row, |piece, text| match piece {
            Piece::Value(v) => json::write_value(text, v),
            Piece::Text(t) => text.push_str(t),
            Piece::State(part) => part.write(text),
        });
    }

    /// The state's objects that the keys' paths go into (`user` for `by user.id`), as the
    /// object the keys are then set in.
    fn objects_keys_go_into(&self, state: &State) -> Value {
        let mut row = Map::new();
        let heads = self.spec.keys.iter().filter_map(|k| match &k.name {
            KeyName::Path(p) if p.segs.len() > 1 => match p.segs.first() {
                Some(Seg::Key(head)) => Some(head),
                _ => None,
            },
            _ => None,
        });
        for head in heads {
            let member = state
                .members(&self.names)
                .and_then(|mut m| m.find(|(name, _)| name == &&**head));
            if let Some((name, part)) = member {
                let mut text = String::new();
                part.write(&mut text);
                if let Ok(v @ Value::Object(_)) = json::checked_tree(&text) {
                    row.insert(name.to_string(), v);
                }
            }
        }
        Value::Object(row)
    }

    /// Hands on entity `e`'s row.
    fn push_row(&mut self, e: usize, out: &mut Emit) {
        let mut text = std::mem::take(&mut self.row_text);
        self.row(e, &mut text);
        out.push_text(&text, None, Origin::default(), None);
        self.row_text = text;
    }
}

impl Describe for Fold {
    fn expressions(&self) -> Vec<&Expr> {
        self.spec.keys.iter().map(|k| &k.expr).collect()
    }

    fn needs(&self, n: &mut Needs) {
        self.spec.needs(n);
    }

    fn name(&self) -> &'static str {
        "fold"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("every event: aggregated")
    }
}

impl Ordered for Fold {
    /// Applies the event to its entity's state; the event itself goes no further.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        self.canon.clear();
        self.text.clear();
        write_key(&self.spec.keys, &ev, out.env(), &mut self.canon, &mut self.text);
        let hash = self.spec.hash(&self.canon);
        let Some(e) = self.table.entity(&self.canon, hash, &self.text, self.spec.max) else {
            out.fail(too_many(self.spec.max));
            return out.record(&ev, Fate::Skipped);
        };
        out.record(&ev, Fate::Aggregated);
        self.patch.clear();
        self.patch.read(&ev, self.spec.from.as_ref());
        self.time.clear();
        self.spec.time.write(&ev, out.env(), &mut self.time);
        let patch = Patch {
            nodes: &self.patch.nodes,
            bytes: &self.patch.bytes,
            last: &self.time,
        };
        self.table.entities[e].apply(patch, &mut self.names, &mut self.merger);
        if self.spec.changes {
            self.push_row(e, out);
        }
    }

    /// With `emit final`, hands on each entity's state, in first-seen order.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        if self.spec.changes {
            return ControlFlow::Continue(());
        }
        self.table.index = hashbrown::HashTable::new();
        for e in 0..self.table.entities.len() {
            self.push_row(e, out);
            // The state is in the row now: free it as the rows go.
            self.table.entities[e].state = State::default();
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }

    /// With `emit changes`, every row goes out as its event comes: a `head` after it is
    /// satisfied without the rest of the input.
    fn sees_every_event(&self) -> bool {
        !self.spec.changes
    }

    fn partial(&self) -> Option<PartialSpec> {
        self.spec.in_parts().then(|| PartialSpec::Fold(self.spec.clone()))
    }

    fn merge(&mut self, part: Partial) -> Result<(), StageError> {
        match part {
            Partial::Fold(part) => self.apply_part(part),
            Partial::Groups(_) => Ok(()),
        }
    }
}

/// The message of a fold stopped by `--max-groups`.
pub(crate) fn too_many(max: usize) -> StageError {
    StageError::too_many("fold", max, "entities")
}

impl Table {
    /// The number of the entity with key `canon` (whose hash is `hash`), new (with `text` as its
    /// key) if it was not seen; `None` when there are `max` entities already.
    fn entity(&mut self, canon: &[u8], hash: u64, text: &[u8], max: usize) -> Option<usize> {
        let entry = self
            .index
            .entry(hash, |(h, k, _)| *h == hash && k.bytes() == canon, |(h, _, _)| *h);
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => Some(e.get().2),
            hashbrown::hash_table::Entry::Vacant(_) if self.entities.len() >= max => None,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert((hash, Canon::new(canon), self.entities.len()));
                self.entities.push(Entity {
                    key: text.into(),
                    state: State::default(),
                    events: 0,
                });
                Some(self.entities.len() - 1)
            }
        }
    }
}

impl FoldSpec {
    /// The hash of a canonical key.
    fn hash(&self, canon: &[u8]) -> u64 {
        self.hasher.hash_one(canon)
    }

    pub(crate) fn needs(&self, n: &mut Needs) {
        self.keys.iter().for_each(|k| n.add_expr(&k.expr));
        // The patch is read from the event's text (see `Patches::read`), not parsed into a tree:
        // the whole event's from the structure the decode-time check finds.
        match &self.from {
            Some(p) => n.add_path(p),
            None => n.tape = true,
        }
        self.time.needs(n);
    }

    /// Whether workers can take a chunk's events apart: the rows come only at the end.
    pub(crate) fn in_parts(&self) -> bool {
        !self.changes
    }

    /// An empty part for a worker's chunk.
    pub(crate) fn part(&self) -> FoldPart {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        spare.unwrap_or_default()
    }

    /// Keeps an applied part's buffers for another chunk.
    fn recycle(&self, mut part: FoldPart) {
        part.keys.clear();
        part.events.clear();
        part.patches.clear();
        if let Ok(mut spare) = self.spare.lock()
            && spare.len() < SPARE_PARTS
        {
            spare.push(part);
        }
    }
}

impl FoldPart {
    /// Adds one event of the chunk.
    pub(crate) fn add(&mut self, spec: &FoldSpec, ev: &Event, env: &Env) {
        let at = self.keys.len();
        self.text.clear();
        write_key(&spec.keys, ev, env, &mut self.keys, &mut self.text);
        let canon = at..self.keys.len();
        let hash = spec.hash(&self.keys[canon.clone()]);
        let key = self.keys.len()..self.keys.len() + self.text.len();
        self.keys.extend_from_slice(&self.text);
        let time = self.keys.len();
        spec.time.write(ev, env, &mut self.keys);
        let start = self.patches.nodes.len();
        self.patches.read(ev, spec.from.as_ref());
        self.events.push(PartEvent {
            canon,
            hash,
            key,
            last: time..self.keys.len(),
            patch: start..self.patches.nodes.len(),
        });
    }
}

/// One event as an entity takes it.
struct Patch<'a> {
    /// Its patch's nodes, and the bytes that hold their keys and texts.
    nodes: &'a [json::TapeNode],
    bytes: &'a [u8],
    /// Its time's JSON text (empty if none).
    last: &'a [u8],
}

impl Entity {
    fn apply(&mut self, patch: Patch, names: &mut Keys, merger: &mut Merger) {
        self.state.apply(patch.nodes, patch.bytes, names, merger);
        if !patch.last.is_empty() {
            self.state.set_last(patch.last);
        }
        self.events += 1;
    }
}

/// A canonical key in the entities' index: short ones (most) in place, so that finding an
/// entity reads no other memory.
#[derive(Debug, Clone)]
enum Canon {
    Short { len: u8, bytes: [u8; SHORT] },
    Long(Box<[u8]>),
}

const SHORT: usize = 22;

impl Canon {
    fn new(key: &[u8]) -> Canon {
        match key.len() {
            len @ 0..=SHORT => {
                let mut bytes = [0; SHORT];
                bytes[..len].copy_from_slice(key);
                Canon::Short { len: len as u8, bytes }
            }
            _ => Canon::Long(key.into()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Canon::Short { len, bytes } => &bytes[..usize::from(*len)],
            Canon::Long(key) => key,
        }
    }
}

/// Sets the row's field `name` in its place, or adds it at the end.
fn put<'a>(row: &mut Vec<(&'a str, Piece<'a>)>, name: &'a str, piece: Piece<'a>) {
    match row.iter_mut().find(|(n, _)| *n == name) {
        Some(entry) => entry.1 = piece,
        None => row.push((name, piece)),
    }
}

/// A part of an output row: a key's or count's value, or a part of a state.
enum Piece<'a> {
    Value(&'a Value),
    /// JSON text, written as it is.
    Text(&'a str),
    State(Part<'a>),
}
