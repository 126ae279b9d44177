//! One module per subcommand, each owning its clap `Args`, its help texts
//! and its `run` (the way cargo lays out `src/bin/cargo/commands/`).
pub mod archive;
pub mod audit;
pub mod backup;
pub mod check;
pub mod copy;
pub mod drill;
pub mod inspect;
pub mod list;
pub mod prune;
pub mod repo;
pub mod restore;
pub mod runs;
pub mod schedule;
pub mod status;
pub mod verify;
