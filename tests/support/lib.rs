//! Fixtures shared by the workspace's integration tests and examples.
