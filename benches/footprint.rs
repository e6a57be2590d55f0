//! Memory and size: peak heap during one step at 100,000 clusters, and the serialized status at
//! 10,000 clusters against etcd's object limit.
//!
//! A counting global allocator (this binary only, so the timing benches run on the plain system
//! allocator) tracks the bytes currently requested and their peak. Bytes are what the program
//! asked for (`Layout::size`), without the allocator's own overhead.
//!
//! * Per 100,000-cluster fixture of `benches/common`: the heap held by the world and by the run,
//!   then the peak growth above that during one `reconcile_in_place` (the engine's working
//!   memory, actions and wake included), during one warm `PlanCache::reconcile_in_place` and
//!   during one `reconcile` (which also copies the status), against the run's status JSON; and
//!   the heap a warm `PlanCache` holds of its own (its lists and plan, and its copy of what
//!   planning reads of each binding; the member clusters are the world's, shared).
//! * Per 10,000-cluster strategy: the status JSON mid-rollout and once the run succeeded, and the
//!   whole run object, against etcd's default request limit of 1.5 MiB.
//!
//! `cargo bench --bench footprint`; the numbers go to `bench-facts/footprint.json`.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use staged_rollout::api::{Binding, MemberCluster};
use staged_rollout::{World, reconcile, reconcile_in_place};

use common::Concurrency;

/// Counts the bytes requested from the system allocator: now, and the peak since the last reset.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, hence by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// Runs `f` and returns its result and the peak heap growth above the heap before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = current();
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - before)
}

/// The heap bytes `value` holds, measured as what a clone of it allocates.
fn heap_of<T: Clone>(value: &T) -> usize {
    let before = current();
    let copy = value.clone();
    let bytes = current() - before;
    drop(copy);
    bytes
}

/// The heap a world holds: a deep copy, the member clusters and bindings behind its `Arc`s
/// included (a plain clone would copy only the pointers).
fn world_heap(world: &World) -> usize {
    let before = current();
    let copy = World {
        member_clusters: world.member_clusters.iter().map(|c| Arc::new(MemberCluster::clone(c))).collect(),
        bindings: world.bindings.iter().map(|b| Arc::new(Binding::clone(b))).collect(),
        ..world.clone()
    };
    let bytes = current() - before;
    drop(copy);
    bytes
}

const MIB: f64 = 1024.0 * 1024.0;
/// etcd's default `--max-request-bytes`: the largest object the API server can store.
const ETCD_LIMIT: usize = 1_572_864;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: nothing to check here
    }
    let mut peaks = Vec::new();
    for stages in [3, 31] {
        for concurrency in [Concurrency::One, Concurrency::Percent(25)] {
            let start = current();
            let f = common::mid_rollout(100_000, stages, concurrency);
            let fixture_bytes = current() - start;
            let json = f.status_json();
            let world_bytes = world_heap(&f.world);
            let run_bytes = heap_of(&f.run);
            let mut run = f.run.clone();
            let (outcome, in_place_peak) = peak_during(|| reconcile_in_place(&mut run, &f.world, f.now, &f.config));
            let outcome = outcome.expect("consistent");
            assert_eq!(outcome.actions.len(), 2);
            drop((run, outcome));
            let (mut run, mut cache) = (f.run.clone(), f.cache.clone());
            let (outcome, cached_peak) = peak_during(|| cache.reconcile_in_place(&mut run, &f.world, f.now, &f.config));
            assert_eq!(outcome.expect("consistent").actions.len(), 2);
            drop((run, cache));
            let cache_bytes = heap_of(&f.cache);
            let (outcome, copy_peak) = peak_during(|| reconcile(&f.run, &f.world, f.now, &f.config));
            drop(outcome);
            let row = serde_json::json!({
                "id": f.id(),
                "status_json_bytes": json.len(),
                "world_bytes": world_bytes,
                "run_bytes": run_bytes,
                "fixture_bytes": fixture_bytes,
                "step_in_place_peak_bytes": in_place_peak,
                "step_cached_peak_bytes": cached_peak,
                "cache_bytes": cache_bytes,
                "step_copy_peak_bytes": copy_peak,
                "in_place_peak_over_json": in_place_peak as f64 / json.len() as f64,
                "total_in_place_bytes": world_bytes + run_bytes + in_place_peak,
            });
            eprintln!(
                "{}: status JSON {:.1} MiB; world {:.1} MiB, run {:.1} MiB; peak growth in place {:.2} MiB \
                 ({:.3} x JSON), warm {:.2} MiB (the cache holds {:.2} MiB), with the copy {:.1} MiB",
                f.id(),
                json.len() as f64 / MIB,
                world_bytes as f64 / MIB,
                run_bytes as f64 / MIB,
                in_place_peak as f64 / MIB,
                in_place_peak as f64 / json.len() as f64,
                cached_peak as f64 / MIB,
                cache_bytes as f64 / MIB,
                copy_peak as f64 / MIB,
            );
            peaks.push(row);
        }
    }

    let mut sizes = Vec::new();
    for stages in [3, 31] {
        for concurrency in [Concurrency::One, Concurrency::Percent(25)] {
            let f = common::mid_rollout(10_000, stages, concurrency);
            sizes.push(serde_json::json!({
                "id": f.id(), "phase": "mid-rollout",
                "status_json_bytes": f.status_json().len(),
                "run_json_bytes": serde_json::to_string(&f.run).expect("serializes").len(),
            }));
        }
        let status = common::finished_status(10_000, stages);
        let mut run = common::new_run();
        let status_bytes = serde_json::to_string(&status).expect("serializes").len();
        run.status = Some(status);
        let run_bytes = serde_json::to_string(&run).expect("serializes").len();
        eprintln!(
            "10000x{stages} succeeded: status {status_bytes} bytes, run {run_bytes} bytes ({:.2} x etcd's limit)",
            run_bytes as f64 / ETCD_LIMIT as f64
        );
        sizes.push(serde_json::json!({
            "id": format!("10000x{stages}"), "phase": "succeeded",
            "status_json_bytes": status_bytes, "run_json_bytes": run_bytes,
        }));
    }
    common::write_facts("footprint", &serde_json::json!({"peak": peaks, "sizes": sizes, "etcd_limit": ETCD_LIMIT}));
}
