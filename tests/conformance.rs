//! Placeholder: tests for this area are written in their own change.
