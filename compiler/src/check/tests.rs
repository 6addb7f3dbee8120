//! Unit tests of the checker on hand-built syntax trees (the end-to-end tests that parse
//! source text live in `compiler/tests/`).
