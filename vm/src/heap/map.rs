//! Insertion-ordered maps whose keys are ordinary value slots.
//!
//! A map stores its keys as the same untagged slots as everything else: an `int` or `bool`
//! key is its value, a `str` key is the handle of a (immutable) string object, which the
//! collector traces like any other reference. Hashing and equality of string keys need the
//! heap, so the map is an `IndexMap<u64, u64>` driven only through indexmap's raw-entry API
//! with hashes and comparisons computed here; its own hasher is never used. Iteration order
//! is insertion order and `remove` shifts (keeps the others' order), so hashing never shows
//! in a program's output.

use indexmap::IndexMap;
use indexmap::map::RawEntryApiV1;
use indexmap::map::raw_entry_v1::RawEntryMut;
use std::hash::BuildHasher;

use super::{Heap, ValKind};
use crate::trap::TrapKind;

/// Bytes charged per map entry (hash, key, value and index-table share).
const ENTRY_BYTES: usize = 32;

/// An insertion-ordered map.
#[derive(Debug)]
pub struct MapObj {
    /// The key kind (`Int`, `Str` or `Bool`).
    pub key: ValKind,
    /// The value kind.
    pub val: ValKind,
    entries: IndexMap<u64, u64, ()>,
}

impl MapObj {
    /// An empty map with room for `capacity` entries.
    pub fn new(key: ValKind, val: ValKind, capacity: usize) -> MapObj {
        MapObj {
            key,
            val,
            entries: IndexMap::with_capacity_and_hasher(capacity, ()),
        }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at insertion position `i`.
    #[inline]
    pub fn entry_at(&self, i: usize) -> Option<(u64, u64)> {
        self.entries.get_index(i).map(|(k, v)| (*k, *v))
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, *v))
    }

    /// Bytes charged for this map's storage.
    pub fn bytes(&self) -> usize {
        self.entries.capacity() * ENTRY_BYTES
    }

    /// Calls `mark` on every reference the map holds.
    pub(super) fn trace(&self, mark: &mut impl FnMut(u64)) {
        match (self.key.is_ref(), self.val.is_ref()) {
            (false, false) => {}
            (true, false) => self.entries.keys().for_each(|&k| mark(k)),
            (false, true) => self.entries.values().for_each(|&v| mark(v)),
            (true, true) => self.entries.iter().for_each(|(&k, &v)| {
                mark(k);
                mark(v);
            }),
        }
    }
}

impl Heap {
    /// The hash of key slot `key` of kind `kind`.
    #[inline]
    fn key_hash(&self, kind: ValKind, key: u64) -> u64 {
        match kind {
            ValKind::Str => self.hasher().hash_one(self.str(key)),
            _ => self.hasher().hash_one(key),
        }
    }

    #[inline]
    fn find_hashed(&self, map: &MapObj, hash: u64, key: u64) -> Option<usize> {
        if map.key == ValKind::Str {
            let want = self.str(key);
            map.entries
                .raw_entry_v1()
                .index_from_hash(hash, |&k| k == key || self.str(k) == want)
        } else {
            map.entries
                .raw_entry_v1()
                .index_from_hash(hash, |&k| k == key)
        }
    }

    /// The insertion position of `key` in map `m`, if present.
    pub fn map_find(&self, m: u64, key: u64) -> Result<Option<usize>, TrapKind> {
        let map = self.map(m)?;
        let hash = self.key_hash(map.key, key);
        Ok(self.find_hashed(map, hash, key))
    }

    /// `m[key] = value`: updates in place or appends.
    pub fn map_set(&mut self, m: u64, key: u64, value: u64) -> Result<(), TrapKind> {
        let map = self.map(m)?;
        let hash = self.key_hash(map.key, key);
        let found = self.find_hashed(map, hash, key);
        let map = self.map_mut(m)?;
        match found {
            Some(i) => {
                if let Some((_, v)) = map.entries.get_index_mut(i) {
                    *v = value;
                }
            }
            None => {
                let before = map.entries.capacity();
                if map.entries.len() == before {
                    let extra = before.max(4).saturating_mul(ENTRY_BYTES);
                    self.reserve(extra)?;
                }
                let map = self.map_mut(m)?;
                if map.entries.len() == before {
                    map.entries
                        .try_reserve(before.max(4))
                        .map_err(|_| TrapKind::OutOfMemory)?;
                }
                if let RawEntryMut::Vacant(slot) =
                    map.entries.raw_entry_mut_v1().from_hash(hash, |_| false)
                {
                    slot.insert_hashed_nocheck(hash, key, value);
                }
                let grown = map.entries.capacity().saturating_sub(before);
                self.account(grown * ENTRY_BYTES);
            }
        }
        Ok(())
    }

    /// `m.remove(key)`: the removed value, keeping the other entries' order.
    pub fn map_remove(&mut self, m: u64, key: u64) -> Result<Option<u64>, TrapKind> {
        let Some(i) = self.map_find(m, key)? else {
            return Ok(None);
        };
        Ok(self
            .map_mut(m)?
            .entries
            .shift_remove_index(i)
            .map(|(_, v)| v))
    }
}
