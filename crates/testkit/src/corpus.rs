//! Where tests find the repository and the shared corpus.
//!
//! The corpus is `../shared/corpus` beside the repository (CI has it there too) or the
//! directory named by `WIRESCOPE_CORPUS`. A missing corpus is a test failure with this message,
//! never a skip. This module reads the environment; nothing else in the crate does.

use std::path::PathBuf;

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The shared corpus directory; panics with a clear message when it is missing.
pub fn dir() -> PathBuf {
    let p = std::env::var_os("WIRESCOPE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"));
    assert!(
        p.is_dir(),
        "shared corpus not found at {} (set WIRESCOPE_CORPUS)",
        p.display()
    );
    p
}
