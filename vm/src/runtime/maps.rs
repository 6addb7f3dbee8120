//! Map operations (insertion-ordered; see `heap::map` for the representation).

use super::try_reserve;
use crate::heap::{Heap, MapObj, ValKind};
use crate::trap::TrapKind;
use crate::value_fmt::key_text;

fn not_found(heap: &Heap, m: u64, key: u64) -> TrapKind {
    let kind = heap.map(m).map_or(ValKind::Int, |m| m.key);
    TrapKind::KeyNotFound {
        key: key_text(heap, kind, key),
    }
}

/// A new map from `pairs` (key, value, key, value, ...); a repeated key keeps its first
/// position and its last value, as a sequence of assignments would.
pub fn new_map(
    heap: &mut Heap,
    key: ValKind,
    val: ValKind,
    pairs: &[u64],
) -> Result<u64, TrapKind> {
    let m = heap.alloc_map(MapObj::new(key, val, pairs.len() / 2))? as u64;
    for kv in pairs.chunks_exact(2) {
        heap.map_set(m, kv[0], kv[1])?;
    }
    Ok(m)
}

/// `m[k]`.
pub fn get(heap: &Heap, m: u64, key: u64) -> Result<u64, TrapKind> {
    match heap.map_find(m, key)? {
        Some(i) => Ok(heap.map(m)?.entry_at(i).map_or(0, |(_, v)| v)),
        None => Err(not_found(heap, m, key)),
    }
}

/// `m.get(k, default)`.
pub fn get_or(heap: &Heap, m: u64, key: u64, default: u64) -> Result<u64, TrapKind> {
    match heap.map_find(m, key)? {
        Some(i) => Ok(heap.map(m)?.entry_at(i).map_or(default, |(_, v)| v)),
        None => Ok(default),
    }
}

/// `m.has(k)`.
pub fn has(heap: &Heap, m: u64, key: u64) -> Result<bool, TrapKind> {
    Ok(heap.map_find(m, key)?.is_some())
}

/// `m.remove(k)`.
pub fn remove(heap: &mut Heap, m: u64, key: u64) -> Result<u64, TrapKind> {
    match heap.map_remove(m, key)? {
        Some(v) => Ok(v),
        None => Err(not_found(heap, m, key)),
    }
}

/// The key (`values == false`) or value at insertion position `i`.
pub fn at(heap: &Heap, m: u64, i: i64, values: bool) -> Result<u64, TrapKind> {
    let map = heap.map(m)?;
    let len = map.len();
    usize::try_from(i)
        .ok()
        .and_then(|i| map.entry_at(i))
        .map(|(k, v)| if values { v } else { k })
        .ok_or(TrapKind::IndexOutOfBounds { index: i, len })
}

/// `m.keys()` (`values == false`) or `m.values()` as a new array.
pub fn to_array(heap: &mut Heap, m: u64, values: bool) -> Result<u64, TrapKind> {
    let map = heap.map(m)?;
    let elem = if values { map.val } else { map.key };
    heap.reserve(map.len().saturating_mul(8))?;
    let mut items = Vec::new();
    try_reserve(&mut items, map.len())?;
    items.extend(map.iter().map(|(k, v)| if values { v } else { k }));
    heap.alloc_array(elem, items).map(|h| h as u64)
}
