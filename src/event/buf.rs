//! [`EventBuf`]: the events of one chunk that passed the parallel part, on their way to the
//! ordered part: their JSON texts back to back in one buffer, each with its origin, its topic
//! and where the worker found its fields, so the ordered part need not scan them again. A
//! topic goes as text: an `Arc` made on a worker and let go on the ordered thread would cost
//! an atomic operation on a cache line the worker's allocator still writes, for every event.

use super::{Event, FieldAt, Origin};
use std::ops::Range;

#[derive(Debug, Default)]
pub(crate) struct EventBuf {
    text: Vec<u8>,
    items: Vec<Item>,
    places: Vec<FieldAt>,
    /// The events' topics, back to back.
    topics: String,
}

#[derive(Debug)]
struct Item {
    /// Where its text ends in `text`; it starts where the one before ends.
    end: usize,
    origin: Origin,
    /// Its topic's place in `topics`.
    topic: Option<Range<usize>>,
    /// Its fields' places, as a range of `places`, when the worker found them.
    places: Option<(u32, u32)>,
}

/// One event of an [`EventBuf`], as the ordered part reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buffered<'a> {
    pub text: &'a [u8],
    pub origin: Origin,
    pub topic: Option<&'a str>,
    pub places: Option<&'a [FieldAt]>,
}

impl EventBuf {
    /// Adds an event as its JSON text; with `find_fields`, also where its fields lie.
    pub(crate) fn push(&mut self, ev: &Event, find_fields: bool) {
        ev.write_json(&mut self.text);
        let at = self.places.len();
        let found = find_fields && ev.field_places(&mut self.places);
        let places = found
            .then(|| Some((u32::try_from(at).ok()?, u32::try_from(self.places.len()).ok()?)))
            .flatten();
        let topic = ev.topic.as_deref().map(|t| {
            let start = self.topics.len();
            self.topics.push_str(t);
            start..self.topics.len()
        });
        self.items.push(Item {
            end: self.text.len(),
            origin: ev.origin,
            topic,
            places,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Event `i`, in the order they were added.
    pub(crate) fn get(&self, i: usize) -> Option<Buffered<'_>> {
        let item = self.items.get(i)?;
        let start = i.checked_sub(1).map_or(0, |prev| self.items[prev].end);
        Some(Buffered {
            text: &self.text[start..item.end],
            origin: item.origin,
            topic: item.topic.clone().and_then(|r| self.topics.get(r)),
            places: item.places.and_then(|(a, b)| self.places.get(a as usize..b as usize)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Needs;
    use crate::lang::ast::{Path, Seg};

    fn needs(keys: &[&str]) -> Needs {
        let mut n = Needs::default();
        for k in keys {
            n.add_path(&Path::new(vec![Seg::Key((*k).into())]));
        }
        n
    }

    #[test]
    fn events_come_back_in_order_with_their_text_origin_topic_and_places() {
        let n = needs(&["a"]);
        let mut buf = EventBuf::default();
        let lines = [r#"{"a":1,"b":2}"#, r#"{"b":{"c":[1]},"a":"x"}"#];
        for (i, line) in lines.iter().enumerate() {
            let origin = Origin::line(1, i as u64 + 1, 0);
            let mut ev = Event::parse(line, if i == 1 { origin.copied(1) } else { origin }, &n).expect("valid");
            ev.topic = (i == 0).then(|| std::sync::Arc::from("t"));
            buf.push(&ev, i == 0);
        }
        assert_eq!(buf.len(), 2);
        let first = buf.get(0).expect("first");
        assert_eq!(first.text, lines[0].as_bytes());
        assert_eq!((first.origin.line, first.topic), (1, Some("t")));
        let places = first.places.expect("asked for");
        let again = Event::placed(lines[0], first.origin, places).expect("the places hold the fields");
        assert_eq!(
            again
                .lookup(&Path::new(vec![Seg::Key("a".into())]))
                .map(crate::lang::Val::into_value),
            Some(1.into())
        );
        let second = buf.get(1).expect("second");
        assert_eq!(second.text, lines[1].as_bytes());
        assert!(second.origin.is_copy() && second.topic.is_none() && second.places.is_none());
        assert!(buf.get(2).is_none());
    }
}
