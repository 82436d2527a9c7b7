//! Interned names: the process-wide symbol table that module and function names of call sites
//! share, and its thread-local cache.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::{Mutex, OnceLock, PoisonError};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A module or function name shared by many call sites. Every name is stored once for the
/// whole process (see [`global_symbol`]: the table only grows, by a project's
/// distinct names, a few thousand), so a symbol is a `&'static` reference: copying one touches no
/// reference count, which two parse threads would otherwise fight over on every call site of
/// `Enum` or `Repo`. Serialises as a plain string; decoding a stored record interns the string
/// again, so a decoded symbol is the same reference as one made by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(clippy::borrowed_box)] // reason: `&Box<str>` is one word, `&str` two, in 200,000 calls
pub(crate) struct Symbol(&'static Box<str>);

impl Symbol {
    /// A new entry of the process-wide table; everything else asks `global_symbol`. The inner
    /// box keeps the reference thin: 8 bytes in every call record.
    pub(crate) fn new(text: &str) -> Symbol {
        Symbol(Box::leak(Box::new(Box::from(text))))
    }

    pub(crate) fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::borrow::Borrow<str> for Symbol {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl JsonSchema for Symbol {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        String::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        Ok(intern(&text))
    }
}

/// Shards of the process-wide symbol table: the same few thousand module and function names
/// recur in every file of a project (4,055 distinct names among 356,000 calls in the benchmark
/// corpus), so each is stored once. Sharded so the parse workers rarely wait for each other;
/// a table only grows, by the project's distinct names.
const SYMBOL_SHARDS: usize = 32;

fn global_symbols() -> &'static [Mutex<HashSet<Symbol, foldhash::fast::RandomState>>] {
    static SYMBOLS: OnceLock<Vec<Mutex<HashSet<Symbol, foldhash::fast::RandomState>>>> =
        OnceLock::new();
    SYMBOLS.get_or_init(|| {
        (0..SYMBOL_SHARDS)
            .map(|_| Mutex::new(HashSet::default()))
            .collect()
    })
}

/// The shared copy of `text`.
pub(crate) fn global_symbol(text: &str) -> Symbol {
    // Names are hashed millions of times: foldhash, not std's SipHash, which costs more than
    // the lookup. A fixed seed picks the shard; each shard's set has its own random seed.
    let hash = foldhash::fast::FixedState::default().hash_one(text);
    let shard = &global_symbols()[(hash % SYMBOL_SHARDS as u64) as usize];
    // A panic elsewhere while holding the lock leaves the set intact: keep using it.
    let mut symbols = shard.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(symbol) = symbols.get(text) {
        return *symbol;
    }
    let symbol = Symbol::new(text);
    symbols.insert(symbol);
    symbol
}

thread_local! {
    /// This thread's view of the symbol table: a lock-free cache in front of the shared one.
    /// It outlives the file (symbols are never freed), so a worker asks the shared table once
    /// per distinct name instead of once per name and file, and no per-file set is grown and
    /// freed (its larger rehashes are the allocations glibc answers by consolidating its fast
    /// bins, which the next parse then pays for). It holds at most the shared table's names.
    static LOCAL_SYMBOLS: std::cell::RefCell<HashSet<Symbol, foldhash::fast::RandomState>> =
        std::cell::RefCell::new(HashSet::default());
}

/// The shared copy of `text`, through this thread's cache.
pub(crate) fn intern(text: &str) -> Symbol {
    LOCAL_SYMBOLS.with(|cell| {
        let mut symbols = cell.borrow_mut();
        if let Some(symbol) = symbols.get(text) {
            return *symbol;
        }
        let symbol = global_symbol(text);
        symbols.insert(symbol);
        symbol
    })
}
