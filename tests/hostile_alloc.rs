//! The loader's memory is bounded by its input: decoding and verifying a file never
//! allocates more than a fixed multiple of the file's size (plus a small constant),
//! however its counts and lengths lie. Measured with a counting global allocator, over
//! crafted headers that declare huge counts and over a seeded campaign of damaged modules.
//! (One test per binary: the allocator counts every thread.)

#[path = "hostile/campaign.rs"]
mod campaign;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use campaign::Rng;
use rvm::vm::format::{FORMAT_VERSION, MAGIC, decode, section};
use rvm::vm::verifier::verify;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's layout, unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes allocated (above what was live before) while decoding and verifying.
fn peak_of_loading(bytes: &[u8]) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    if let Ok(m) = decode(bytes) {
        let _ = verify(m);
    }
    PEAK.load(Ordering::Relaxed) - base
}

/// The bound: 200 bytes of memory per input byte plus 64 KiB.
fn bound(len: usize) -> usize {
    200 * len + (64 << 10)
}

fn header() -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b
}

/// Files that declare the largest counts, lengths and sizes in each section.
fn crafted() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for id in section::TYPES..=section::DEBUG {
        for body in [
            u32::MAX.to_le_bytes().to_vec(),
            [u32::MAX.to_le_bytes(), u32::MAX.to_le_bytes()].concat(),
            [1u32.to_le_bytes(), u32::MAX.to_le_bytes()].concat(),
            [[1u8].as_slice(), &u32::MAX.to_le_bytes(), &[0xff; 64]].concat(),
        ] {
            let mut b = header();
            b.push(id);
            b.extend_from_slice(&(body.len() as u32).to_le_bytes());
            b.extend_from_slice(&body);
            out.push(b.clone());
            // And a section length that lies.
            let mut lie = header();
            lie.push(id);
            lie.extend_from_slice(&u32::MAX.to_le_bytes());
            lie.extend_from_slice(&body);
            out.push(lie);
        }
    }
    out
}

#[test]
fn loading_allocates_in_proportion_to_the_input() {
    let mut worst = 0f64;
    let mut check = |bytes: &[u8], what: &str| {
        let peak = peak_of_loading(bytes);
        assert!(
            peak <= bound(bytes.len()),
            "{what}: {} input bytes made the loader allocate {peak} bytes",
            bytes.len()
        );
        worst = worst.max(peak as f64 / bytes.len().max(1) as f64);
    };
    for (k, b) in crafted().iter().enumerate() {
        check(b, &format!("crafted file {k}"));
    }
    let modules = campaign::valid_modules();
    for (k, m) in modules.iter().enumerate() {
        check(m, &format!("seed module {k}"));
    }
    let mut rng = Rng::new(campaign::seed());
    for case in 0..campaign::cases(3_000) {
        let mut b = rng.pick(modules).clone();
        for _ in 0..1 + rng.below(4) {
            let p = rng.below(b.len().saturating_sub(4).max(1));
            let v: u32 = match rng.below(3) {
                0 => u32::MAX,
                1 => 0x00ff_ffff,
                _ => rng.next() as u32,
            };
            let end = (p + 4).min(b.len());
            b[p..end].copy_from_slice(&v.to_le_bytes()[..end - p]);
        }
        check(&b, &format!("mutated case {case}"));
    }
    eprintln!("worst ratio of peak allocation to input size: {worst:.1}");
}
