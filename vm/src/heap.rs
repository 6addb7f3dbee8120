//! The guest heap: strings, arrays, maps and structs behind `u32` handles, and a precise,
//! non-moving mark-sweep collector.
//!
//! **Why handles, not pointers.** Values are untagged 64-bit slots; a reference is the index
//! of an object slot in one `Vec`. That keeps the runtime in safe Rust (a stale or forged
//! handle can at worst name the wrong object or an empty slot, never corrupt memory), makes
//! the collector trivially non-moving, and gives the JIT a simple representation to load.
//! Index 0 is reserved and never names an object, so a zeroed slot (an unset global or a
//! not-yet-written local) is never mistaken for a reference.
//!
//! **Why the collector is precise.** Slots carry no tags, so the collector learns which slots
//! hold references from the verifier: per-local flags, per-instruction operand stack maps and
//! per-global flags (see `interpreter::gc_roots`), and, inside the heap, from the element
//! kind stored in each array and map and the field kinds of each struct type ([`Layouts`]).
//!
//! **When it collects.** Only at allocation sites, and only when the bytes allocated since
//! the last collection exceed a threshold that grows with the live heap (`max(1 MiB, 2 ×
//! live)`), so the cost of collection stays proportional to allocation. Allocation itself
//! never collects: the interpreter checks [`Heap::should_collect`] once the allocating
//! instruction has finished and its result sits on the operand stack, where the stack map
//! describes it. So a native that allocates several objects (`s.split` builds strings, then
//! the array holding them) needs no temporary roots; only natives that re-enter guest code
//! (`sort_by`) hold references across a possible collection, in the VM's temp roots. Bytes are counted
//! where objects are created or grow, which is also where a future heap limit plugs in.
//! Marking uses an explicit worklist, so a million-deep linked structure cannot overflow the
//! Rust stack.

mod layout;
mod map;

pub use layout::{Layouts, TypeLayout, ValKind};
pub use map::MapObj;

use crate::trap::TrapKind;

/// A reference to a heap object: an index into the object table (never 0).
pub type Handle = u32;

/// Bytes charged for every object on top of its payload (the slot and its mark).
pub const OBJECT_OVERHEAD: usize = std::mem::size_of::<Obj>() + 1;
/// The collection threshold never drops below this.
const MIN_THRESHOLD: usize = 1 << 20;

/// One slot of the object table. Compiled code reads array and struct headers in it at
/// offsets measured at run time (`tier::HeapLayout`).
#[derive(Debug)]
#[repr(u8)]
pub enum Obj {
    /// An empty slot (on the free list, or the reserved slot 0).
    Free,
    /// An immutable UTF-8 string.
    Str(Box<str>),
    /// A growable array.
    Array(ArrayObj),
    /// An insertion-ordered map.
    Map(Box<MapObj>),
    /// A struct instance.
    Struct(StructObj),
}

/// A growable array: its elements and their kind (so the collector knows whether they are
/// references, and `contains`/`sort`/printing know how to compare and show them).
#[derive(Debug)]
pub struct ArrayObj {
    /// The element kind.
    pub elem: ValKind,
    /// The elements.
    pub items: Vec<u64>,
}

/// A struct instance.
#[derive(Debug)]
pub struct StructObj {
    /// Its type id in the module's type table (a `TypeDef::Struct`).
    pub ty: u32,
    /// The fields in declaration order.
    pub fields: Box<[u64]>,
}

/// The object table and the collector's bookkeeping.
#[derive(Debug)]
pub struct Heap {
    objects: Vec<Obj>,
    marks: Vec<bool>,
    free: Vec<Handle>,
    /// Bytes allocated (or grown) since the last collection.
    allocated: usize,
    /// Bytes live after the last collection.
    live: usize,
    /// Collect once `allocated` exceeds this.
    threshold: usize,
    /// Collect at every allocation site (for tests).
    stress: bool,
    /// Number of collections so far.
    collections: u64,
    /// The most bytes the heap may hold (`--max-heap`).
    limit: usize,
    worklist: Vec<Handle>,
    hasher: foldhash::fast::RandomState,
}

/// Heap statistics, for tests and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapStats {
    /// Objects currently in the table (live or garbage not yet swept).
    pub objects: usize,
    /// Size of the object table (including free slots).
    pub slots: usize,
    /// Bytes live after the last collection.
    pub live_bytes: usize,
    /// Bytes allocated since the last collection.
    pub allocated_bytes: usize,
    /// Collections run so far.
    pub collections: u64,
}

impl Heap {
    /// An empty heap. `stress` makes every allocation site collect.
    pub fn new(stress: bool) -> Heap {
        Heap {
            objects: vec![Obj::Free],
            marks: vec![false],
            free: Vec::new(),
            allocated: 0,
            live: 0,
            threshold: MIN_THRESHOLD,
            stress,
            collections: 0,
            limit: usize::MAX,
            worklist: Vec::new(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// Whether the caller should run a collection now (it has just allocated and every
    /// reference it holds is visible to the root scan).
    #[inline]
    pub fn should_collect(&self) -> bool {
        self.stress || self.allocated > self.threshold
    }

    /// Sets the most bytes the heap may hold; allocations past it fail with `out of memory`.
    pub fn set_limit(&mut self, bytes: usize) {
        self.limit = bytes;
        self.threshold = self.clamped_threshold(self.threshold);
    }

    /// The heap limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Checks that `bytes` more can be allocated without passing the limit, before the
    /// caller allocates them. Fails with [`TrapKind::HeapLimit`] when a collection might
    /// make room (the caller collects and retries once) and with [`TrapKind::OutOfMemory`]
    /// when nothing can: the request alone is over the limit, or nothing was allocated
    /// since the last collection.
    #[inline]
    pub fn reserve(&self, bytes: usize) -> Result<(), TrapKind> {
        let used = self.live.saturating_add(self.allocated);
        if used.saturating_add(bytes).saturating_add(OBJECT_OVERHEAD) <= self.limit {
            return Ok(());
        }
        if bytes >= self.limit || self.allocated == 0 {
            Err(TrapKind::OutOfMemory)
        } else {
            Err(TrapKind::HeapLimit)
        }
    }

    /// Whether the live heap after the last collection is over the limit.
    #[inline]
    pub fn over_limit(&self) -> bool {
        self.live > self.limit
    }

    /// The bytes a single new object may still take (for reads of unknown size, such as
    /// standard input, which cannot be retried).
    pub fn room(&self) -> usize {
        self.limit
            .saturating_sub(self.live.saturating_add(self.allocated))
            .saturating_sub(OBJECT_OVERHEAD)
    }

    fn clamped_threshold(&self, t: usize) -> usize {
        t.min(self.limit.saturating_sub(self.live))
    }

    /// Counts `bytes` of new or grown storage.
    #[inline]
    pub fn account(&mut self, bytes: usize) {
        self.allocated = self.allocated.saturating_add(bytes);
    }

    /// The object table itself (for `tier::HeapLayout`, which gives compiled code the
    /// table's address so that it can read arrays and structs without a call).
    pub(crate) fn objects_table(&mut self) -> *mut Vec<Obj> {
        &mut self.objects
    }

    /// Statistics.
    pub fn stats(&self) -> HeapStats {
        HeapStats {
            objects: self.objects.len() - 1 - self.free.len(),
            slots: self.objects.len(),
            live_bytes: self.live,
            allocated_bytes: self.allocated,
            collections: self.collections,
        }
    }

    fn insert(&mut self, obj: Obj, bytes: usize) -> Result<Handle, TrapKind> {
        self.account(bytes + OBJECT_OVERHEAD);
        if let Some(h) = self.free.pop() {
            self.objects[h as usize] = obj;
            return Ok(h);
        }
        let h = u32::try_from(self.objects.len()).map_err(|_| TrapKind::OutOfMemory)?;
        self.objects.push(obj);
        self.marks.push(false);
        Ok(h)
    }

    /// Allocates a string.
    pub fn alloc_str(&mut self, s: Box<str>) -> Result<Handle, TrapKind> {
        let len = s.len();
        self.insert(Obj::Str(s), len)
    }

    /// Allocates an array with the given elements.
    pub fn alloc_array(&mut self, elem: ValKind, items: Vec<u64>) -> Result<Handle, TrapKind> {
        let bytes = items.capacity() * 8;
        self.insert(Obj::Array(ArrayObj { elem, items }), bytes)
    }

    /// Allocates a map.
    pub fn alloc_map(&mut self, map: MapObj) -> Result<Handle, TrapKind> {
        let bytes = map.bytes();
        self.insert(Obj::Map(Box::new(map)), bytes)
    }

    /// Allocates a struct of type `ty` with the given fields.
    pub fn alloc_struct(&mut self, ty: u32, fields: Box<[u64]>) -> Result<Handle, TrapKind> {
        let bytes = fields.len() * 8;
        self.insert(Obj::Struct(StructObj { ty, fields }), bytes)
    }

    /// The object behind `h` (the empty slot for an invalid handle).
    #[inline]
    pub fn get(&self, h: u64) -> &Obj {
        self.objects.get(h as usize).unwrap_or(&Obj::Free)
    }

    /// The string behind `h` (`""` if `h` is not a string, which verified code rules out).
    #[inline]
    pub fn str(&self, h: u64) -> &str {
        match self.get(h) {
            Obj::Str(s) => s,
            _ => "",
        }
    }

    /// The array behind `h`.
    #[inline]
    pub fn array(&self, h: u64) -> Result<&ArrayObj, TrapKind> {
        match self.objects.get(h as usize) {
            Some(Obj::Array(a)) => Ok(a),
            _ => Err(TrapKind::Internal {
                what: "expected an array",
            }),
        }
    }

    /// The array behind `h`, mutably.
    #[inline]
    pub fn array_mut(&mut self, h: u64) -> Result<&mut ArrayObj, TrapKind> {
        match self.objects.get_mut(h as usize) {
            Some(Obj::Array(a)) => Ok(a),
            _ => Err(TrapKind::Internal {
                what: "expected an array",
            }),
        }
    }

    /// The map behind `h`.
    #[inline]
    pub fn map(&self, h: u64) -> Result<&MapObj, TrapKind> {
        match self.objects.get(h as usize) {
            Some(Obj::Map(m)) => Ok(m),
            _ => Err(TrapKind::Internal {
                what: "expected a map",
            }),
        }
    }

    /// The map behind `h`, mutably.
    #[inline]
    pub fn map_mut(&mut self, h: u64) -> Result<&mut MapObj, TrapKind> {
        match self.objects.get_mut(h as usize) {
            Some(Obj::Map(m)) => Ok(m),
            _ => Err(TrapKind::Internal {
                what: "expected a map",
            }),
        }
    }

    /// The struct behind `h`.
    #[inline]
    pub fn struct_(&self, h: u64) -> Result<&StructObj, TrapKind> {
        match self.objects.get(h as usize) {
            Some(Obj::Struct(s)) => Ok(s),
            _ => Err(TrapKind::Internal {
                what: "expected a struct",
            }),
        }
    }

    /// The struct behind `h`, mutably.
    #[inline]
    pub fn struct_mut(&mut self, h: u64) -> Result<&mut StructObj, TrapKind> {
        match self.objects.get_mut(h as usize) {
            Some(Obj::Struct(s)) => Ok(s),
            _ => Err(TrapKind::Internal {
                what: "expected a struct",
            }),
        }
    }

    /// The per-VM hasher for map keys (random seed; iteration order never depends on it).
    pub fn hasher(&self) -> &foldhash::fast::RandomState {
        &self.hasher
    }

    // ---- collection

    /// Marks the object behind the root `h` (0 is skipped). Call for every root, then
    /// [`Heap::finish_collection`].
    #[inline]
    pub fn mark_root(&mut self, h: u64) {
        let h = h as usize;
        if h != 0 && h < self.marks.len() && !self.marks[h] {
            self.marks[h] = true;
            self.worklist.push(h as Handle);
        }
    }

    /// Traces from the marked roots with an explicit worklist, frees everything unmarked,
    /// and sets the next threshold.
    pub fn finish_collection(&mut self, layouts: &Layouts) {
        while let Some(h) = self.worklist.pop() {
            // Take the worklist out so we can push while reading the object.
            let mut work = std::mem::take(&mut self.worklist);
            let marks = &mut self.marks;
            let mut mark = |v: u64| {
                let v = v as usize;
                if v != 0 && v < marks.len() && !marks[v] {
                    marks[v] = true;
                    work.push(v as Handle);
                }
            };
            match &self.objects[h as usize] {
                Obj::Free | Obj::Str(_) => {}
                Obj::Array(a) => {
                    if a.elem.is_ref() {
                        a.items.iter().for_each(|&v| mark(v));
                    }
                }
                Obj::Map(m) => m.trace(&mut mark),
                Obj::Struct(s) => {
                    let kinds = layouts.fields(s.ty);
                    for (&v, k) in s.fields.iter().zip(kinds) {
                        if k.is_ref() {
                            mark(v);
                        }
                    }
                }
            }
            self.worklist = work;
        }
        let mut live = 0usize;
        for (i, obj) in self.objects.iter_mut().enumerate().skip(1) {
            if self.marks[i] {
                self.marks[i] = false;
                live += object_bytes(obj);
            } else if !matches!(obj, Obj::Free) {
                *obj = Obj::Free;
                self.free.push(i as Handle);
            }
        }
        self.live = live;
        self.allocated = 0;
        self.threshold = self.clamped_threshold(MIN_THRESHOLD.max(live.saturating_mul(2)));
        self.collections += 1;
    }
}

/// The bytes an object is charged (payload plus overhead), as at allocation.
fn object_bytes(obj: &Obj) -> usize {
    OBJECT_OVERHEAD
        + match obj {
            Obj::Free => 0,
            Obj::Str(s) => s.len(),
            Obj::Array(a) => a.items.capacity() * 8,
            Obj::Map(m) => m.bytes(),
            Obj::Struct(s) => s.fields.len() * 8,
        }
}
