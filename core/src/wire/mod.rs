//! The Redis wire: replies as `redis-cli` prints them ([`reply`]) and the
//! replication protocol's handshake and snapshot download ([`repl`]).
pub mod repl;
pub mod reply;
