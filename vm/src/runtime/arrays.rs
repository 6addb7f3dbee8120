//! Array operations.
//!
//! Indices arrive as guest `int`s and are checked here (negative or too large is the same
//! `index I out of bounds for length N` trap). Storage growth is charged to the heap where
//! it happens (`push`, `insert`), so the collector's pacing and a future heap limit see it.

use super::try_reserve;
use crate::heap::{Heap, ValKind};
use crate::trap::TrapKind;
use std::cmp::Ordering;

#[inline]
fn index(i: i64, len: usize) -> Result<usize, TrapKind> {
    usize::try_from(i)
        .ok()
        .filter(|&i| i < len)
        .ok_or(TrapKind::IndexOutOfBounds { index: i, len })
}

/// Whether two slots of kind `kind` are `==` (strings by content, floats by IEEE equality,
/// arrays, maps, structs and functions by identity).
#[inline]
pub fn values_equal(heap: &Heap, kind: ValKind, a: u64, b: u64) -> bool {
    match kind {
        ValKind::Int | ValKind::Bool | ValKind::Func | ValKind::Ref => a == b,
        ValKind::Float => f64::from_bits(a) == f64::from_bits(b),
        ValKind::Str => a == b || heap.str(a) == heap.str(b),
    }
}

/// A new array of `elem` holding `items`.
pub fn new_array(heap: &mut Heap, elem: ValKind, items: &[u64]) -> Result<u64, TrapKind> {
    let mut v = Vec::new();
    try_reserve(&mut v, items.len())?;
    v.extend_from_slice(items);
    heap.alloc_array(elem, v).map(|h| h as u64)
}

/// `array(n, v)`.
pub fn fill(heap: &mut Heap, elem: ValKind, n: i64, v: u64) -> Result<u64, TrapKind> {
    if n < 0 {
        return Err(TrapKind::NegativeArrayLength { len: n });
    }
    let n = usize::try_from(n).map_err(|_| TrapKind::OutOfMemory)?;
    heap.reserve(n.saturating_mul(8))?;
    let mut items = Vec::new();
    try_reserve(&mut items, n)?;
    items.resize(n, v);
    heap.alloc_array(elem, items).map(|h| h as u64)
}

/// `xs[i]`.
#[inline]
pub fn get(heap: &Heap, arr: u64, i: i64) -> Result<u64, TrapKind> {
    let a = heap.array(arr)?;
    Ok(a.items[index(i, a.items.len())?])
}

/// `xs[i] = v`.
#[inline]
pub fn set(heap: &mut Heap, arr: u64, i: i64, v: u64) -> Result<(), TrapKind> {
    let a = heap.array_mut(arr)?;
    let i = index(i, a.items.len())?;
    a.items[i] = v;
    Ok(())
}

/// `xs.push(v)`.
#[inline]
pub fn push(heap: &mut Heap, arr: u64, v: u64) -> Result<(), TrapKind> {
    let a = heap.array_mut(arr)?;
    if a.items.len() < a.items.capacity() {
        a.items.push(v);
        return Ok(());
    }
    grow(heap, arr)?;
    heap.array_mut(arr)?.items.push(v);
    Ok(())
}

/// Doubles a full array's capacity, within the heap limit.
#[cold]
fn grow(heap: &mut Heap, arr: u64) -> Result<(), TrapKind> {
    let cap = heap.array(arr)?.items.capacity();
    let extra = cap.max(4);
    heap.reserve(extra.saturating_mul(8))?;
    let a = heap.array_mut(arr)?;
    a.items
        .try_reserve_exact(extra)
        .map_err(|_| TrapKind::OutOfMemory)?;
    let grown = a.items.capacity() - cap;
    heap.account(grown * 8);
    Ok(())
}

/// `xs.pop()`.
pub fn pop(heap: &mut Heap, arr: u64) -> Result<u64, TrapKind> {
    heap.array_mut(arr)?.items.pop().ok_or(TrapKind::PopEmpty)
}

/// `xs.insert(i, v)`.
pub fn insert(heap: &mut Heap, arr: u64, i: i64, v: u64) -> Result<(), TrapKind> {
    let a = heap.array_mut(arr)?;
    let len = a.items.len();
    let at = usize::try_from(i)
        .ok()
        .filter(|&i| i <= len)
        .ok_or(TrapKind::InsertOutOfBounds { index: i, len })?;
    if len == a.items.capacity() {
        grow(heap, arr)?;
    }
    heap.array_mut(arr)?.items.insert(at, v);
    Ok(())
}

/// `xs.remove(i)`.
pub fn remove(heap: &mut Heap, arr: u64, i: i64) -> Result<u64, TrapKind> {
    let a = heap.array_mut(arr)?;
    let i = index(i, a.items.len())?;
    Ok(a.items.remove(i))
}

/// `xs.slice(a, b)`.
pub fn slice(heap: &mut Heap, arr: u64, start: i64, end: i64) -> Result<u64, TrapKind> {
    let a = heap.array(arr)?;
    let len = a.items.len();
    if start < 0 || end < start || end as u64 > len as u64 {
        return Err(TrapKind::SliceOutOfBounds { start, end, len });
    }
    let elem = a.elem;
    heap.reserve((end - start) as usize * 8)?;
    let items = a.items[start as usize..end as usize].to_vec();
    heap.alloc_array(elem, items).map(|h| h as u64)
}

/// `xs.index_of(v)`, -1 when absent.
pub fn index_of(heap: &Heap, arr: u64, v: u64) -> Result<i64, TrapKind> {
    let a = heap.array(arr)?;
    Ok(a.items
        .iter()
        .position(|&x| values_equal(heap, a.elem, x, v))
        .map_or(-1, |i| i as i64))
}

/// `xs.reverse()`.
pub fn reverse(heap: &mut Heap, arr: u64) -> Result<(), TrapKind> {
    heap.array_mut(arr)?.items.reverse();
    Ok(())
}

/// The order `sort` gives floats: IEEE total order among numbers (so `-0.0 < 0.0`), and NaN
/// (there is one, `float::CANONICAL_NAN_BITS`, whose sign bit is set) after `inf`.
fn float_order(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (false, false) => x.total_cmp(&y),
        (a, b) => a.cmp(&b),
    }
}

/// `xs.sort()`: stable; ints numerically, floats by [`float_order`] (`-inf < ... < -0.0 <
/// 0.0 < ... < inf < nan`), strings byte-wise, bools false first. Arrays of other
/// kinds (which the verifier rejects) are left as they are.
pub fn sort(heap: &mut Heap, arr: u64) -> Result<(), TrapKind> {
    let a = heap.array_mut(arr)?;
    match a.elem {
        ValKind::Int => a.items.sort_by_key(|&v| v as i64),
        ValKind::Float => a
            .items
            .sort_by(|&x, &y| float_order(f64::from_bits(x), f64::from_bits(y))),
        ValKind::Bool => a.items.sort(),
        ValKind::Str => {
            let mut items = std::mem::take(&mut a.items);
            items.sort_by(|&x, &y| heap.str(x).cmp(heap.str(y)));
            heap.array_mut(arr)?.items = items;
        }
        ValKind::Func | ValKind::Ref => {}
    }
    Ok(())
}

/// A stable bottom-up merge sort driven by a fallible three-way comparator, used by
/// `sort_by` (whose comparator is guest code). It never panics and always terminates,
/// whatever the comparator answers: the result is then some permutation of the input.
pub fn merge_sort_by<E>(
    v: &mut Vec<u64>,
    mut cmp: impl FnMut(u64, u64) -> Result<Ordering, E>,
) -> Result<(), E> {
    let n = v.len();
    if n < 2 {
        return Ok(());
    }
    let mut buf = vec![0u64; n];
    let mut width = 1usize;
    while width < n {
        let mut lo = 0usize;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j, mut k) = (lo, mid, lo);
            while i < mid && j < hi {
                // Take from the right only when it is strictly smaller: stability.
                if cmp(v[i], v[j])? == Ordering::Greater {
                    buf[k] = v[j];
                    j += 1;
                } else {
                    buf[k] = v[i];
                    i += 1;
                }
                k += 1;
            }
            buf[k..k + (mid - i)].copy_from_slice(&v[i..mid]);
            k += mid - i;
            buf[k..k + (hi - j)].copy_from_slice(&v[j..hi]);
            lo = hi;
        }
        std::mem::swap(v, &mut buf);
        width = width.saturating_mul(2);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_sort_is_stable_and_total() {
        let mut v: Vec<u64> = (0..100u64).map(|i| (i % 7) << 8 | i).collect();
        merge_sort_by::<()>(&mut v, |a, b| Ok((a >> 8).cmp(&(b >> 8)))).unwrap();
        for w in v.windows(2) {
            assert!(w[0] >> 8 < w[1] >> 8 || (w[0] >> 8 == w[1] >> 8 && w[0] < w[1]));
        }
        // An inconsistent comparator still yields a permutation.
        let mut v: Vec<u64> = (0..50).collect();
        let mut flip = false;
        merge_sort_by::<()>(&mut v, |_, _| {
            flip = !flip;
            Ok(if flip {
                Ordering::Greater
            } else {
                Ordering::Less
            })
        })
        .unwrap();
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<u64>>());
    }
}
